import type { AppDeps } from '../../deps.js'
import type { AlipayApp } from '../../ports/alipay.js'
import type { ChannelEvent, ChannelMessage, MessageChannel } from '../../ports/alipay-messages.js'
import { createSweeper } from '../../shared/sweeper.js'
import { handleAlipayMessage } from '../cards/index.js'
import { longConnectionApps, releaseChannelLease, takeChannelLease } from '../merchants/index.js'

/**
 * The worker's message long connections (长连接, docs/alipay-message-channel.md): one channel per
 * merchant whose messages come over the long connection, held by one worker of the cluster at a
 * time through a lease on the merchant's row (renewed every third of its length; a worker that
 * dies loses it when it lapses and another takes over). Each verified message goes to the same
 * handler as the HTTP gateway's, inside its transaction with the inbox dedupe; the ack follows the
 * commit. Two holders at once (a lease lapsing under a stalled worker) would be harmless: both
 * handle through the same dedupe, and Alipay takes either ack.
 */
export interface ChannelRunner {
  /** One pass: opens, renews and closes channels to match the merchants' settings. */
  runOnce(): Promise<number>
  start(): void
  /** Stops the pass timer, closes every channel (waiting for handlers in flight), releases leases. */
  stop(): Promise<void>
  /** Merchants whose channel this process holds now. */
  held(): string[]
}

type RunnerDeps = Pick<
  AppDeps,
  | 'config'
  | 'db'
  | 'dialect'
  | 'clock'
  | 'ids'
  | 'cipher'
  | 'log'
  | 'alipay'
  | 'alipayMessages'
  | 'crm'
  | 'metrics'
>

function sameApp(a: AlipayApp, b: AlipayApp): boolean {
  return (
    a.appId === b.appId &&
    a.gateway === b.gateway &&
    a.privateKey === b.privateKey &&
    a.alipayPublicKey === b.alipayPublicKey
  )
}

export function createChannelRunner(
  deps: RunnerDeps,
  options: { holder: string; leaseMs: number },
): ChannelRunner {
  const { log, metrics } = deps
  const open = new Map<string, { app: AlipayApp; channel: MessageChannel }>()

  function onEvent(merchantId: string, event: ChannelEvent): void {
    switch (event.type) {
      case 'connected':
        metrics.channelConnected.inc()
        log.info({ merchantId }, 'message channel connected')
        return
      case 'disconnected':
        metrics.channelConnected.dec()
        log.warn({ merchantId, code: event.code }, 'message channel disconnected')
        return
      case 'retry':
        log.debug({ merchantId, inMs: event.inMs, error: event.error }, 'message channel retry')
        return
      case 'acked':
        metrics.channelMessages.inc({ result: event.status === 'SUCCESS' ? 'acked' : 'failed' })
        return
      case 'refused':
        metrics.channelMessages.inc({ result: 'refused' })
        log.warn(
          { merchantId, reason: event.reason, messageId: event.messageId },
          'message channel frame refused (not acked)',
        )
    }
  }

  async function onMessage(app: AlipayApp, message: ChannelMessage): Promise<void> {
    if (message.appId !== '' && message.appId !== app.appId) {
      log.warn(
        { merchantId: app.merchantId, appId: message.appId, messageId: message.messageId },
        'message channel: a message for another app; not handled',
      )
      return
    }
    try {
      await handleAlipayMessage(deps, app.merchantId, {
        messageId: message.messageId,
        method: message.msgApi,
        bizContent: message.content,
      })
    } catch (error) {
      log.warn(
        { err: error, merchantId: app.merchantId, messageId: message.messageId },
        'message channel: message not handled (acked FAIL, Alipay redelivers)',
      )
      throw error
    }
  }

  async function close(merchantId: string): Promise<void> {
    const entry = open.get(merchantId)
    if (!entry) {
      return
    }
    open.delete(merchantId)
    await entry.channel.stop()
    await releaseChannelLease(deps, merchantId, options.holder)
  }

  async function pass(): Promise<number> {
    const wanted = new Map((await longConnectionApps(deps)).map((a) => [a.merchantId, a]))
    for (const [merchantId, entry] of [...open]) {
      const app = wanted.get(merchantId)
      if (!app || !sameApp(app, entry.app)) {
        await close(merchantId)
      }
    }
    for (const app of wanted.values()) {
      const held = await takeChannelLease(deps, app.merchantId, options.holder, options.leaseMs)
      const entry = open.get(app.merchantId)
      if (!held) {
        if (entry) {
          // Our lease lapsed and another worker took the merchant: it keeps the connection.
          open.delete(app.merchantId)
          await entry.channel.stop()
        }
        continue
      }
      if (!entry) {
        const channel = deps.alipayMessages.open(app, {
          onMessage: (m) => onMessage(app, m),
          onEvent: (e) => onEvent(app.merchantId, e),
        })
        open.set(app.merchantId, { app, channel })
        channel.start()
      }
    }
    return open.size
  }

  const sweeper = createSweeper({
    name: 'message channel pass',
    everyMs: Math.max(200, Math.floor(options.leaseMs / 3)),
    log,
    sweep: pass,
  })

  return {
    runOnce: pass,
    start: () => sweeper.start(),
    async stop() {
      await sweeper.stop()
      await Promise.allSettled([...open.keys()].map((id) => close(id)))
    },
    held: () => [...open.keys()],
  }
}
