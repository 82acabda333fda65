import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/deps.js'
import { createChannelRunner, type ChannelRunner } from '../../src/modules/channel/index.js'
import { DEFAULT_MERCHANT_ID, updateMessageChannel } from '../../src/modules/merchants/index.js'
import type { AlipayMessagesPort, ChannelMessage } from '../../src/ports/alipay-messages.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import { fixedClock, testDeps } from '../helpers/deps.js'
import { setUpFakeMerchant } from '../helpers/fake-merchant.js'
import { fakeAlipay } from '../helpers/fakes.js'

/** A port that opens no socket: it counts channels and keeps their message handlers. */
function fakeMessagesPort() {
  const channels: {
    appId: string
    running: boolean
    onMessage: (m: ChannelMessage) => Promise<void>
  }[] = []
  const port: AlipayMessagesPort = {
    open(app, handlers) {
      const entry = { appId: app.appId, running: false, onMessage: handlers.onMessage }
      channels.push(entry)
      return {
        start: () => {
          entry.running = true
        },
        stop: async () => {
          entry.running = false
        },
        get connected() {
          return entry.running
        },
      }
    },
  }
  return { port, channels, running: () => channels.filter((c) => c.running).length }
}

/**
 * One long connection per merchant across the cluster: two workers (two runners over one database,
 * SQLite and PostgreSQL) never both hold the merchant's lease; a stopped or stalled holder's lease
 * passes to the other.
 */
for (const dialect of DIALECTS) {
  describe(`${dialect}: the long-connection lease`, () => {
    let db: TestDb
    const clock = fixedClock('2026-12-07T00:00:00.000Z')
    const a = fakeMessagesPort()
    const b = fakeMessagesPort()
    let depsA: AppDeps
    let runnerA: ChannelRunner
    let runnerB: ChannelRunner

    beforeAll(async () => {
      db = await createTestDb(dialect)
      const base = testDeps(db, { alipay: fakeAlipay(), clock })
      depsA = { ...base, alipayMessages: a.port }
      await setUpFakeMerchant(depsA)
      runnerA = createChannelRunner(depsA, { holder: 'worker-a', leaseMs: 30_000 })
      runnerB = createChannelRunner(
        { ...base, alipayMessages: b.port },
        { holder: 'worker-b', leaseMs: 30_000 },
      )
    })
    afterAll(async () => {
      await runnerA?.stop()
      await runnerB?.stop()
      await db.destroy()
    })

    it('opens nothing while the merchant uses the HTTP gateway', async () => {
      expect(await runnerA.runOnce()).toBe(0)
      expect(a.channels).toHaveLength(0)
    })

    it('gives the merchant to exactly one of two workers passing at the same time', async () => {
      await updateMessageChannel(depsA, DEFAULT_MERCHANT_ID, 'websocket', { actor: 'test' })
      await Promise.all([
        runnerA.runOnce(),
        runnerB.runOnce(),
        runnerA.runOnce(),
        runnerB.runOnce(),
      ])
      expect(a.running() + b.running()).toBe(1)
      expect(runnerA.held().length + runnerB.held().length).toBe(1)
    })

    it('renews for the holder and passes the merchant on when the holder stops', async () => {
      const [holder, other, otherPort] =
        runnerA.held().length === 1 ? [runnerA, runnerB, b] : [runnerB, runnerA, a]
      clock.advance(20_000)
      await holder.runOnce()
      clock.advance(20_000)
      // 40 s after the first take, but renewed at 20 s: still the holder's.
      await other.runOnce()
      expect(otherPort.running()).toBe(0)
      await holder.stop()
      await other.runOnce()
      expect(otherPort.running()).toBe(1)
      expect(other.held()).toEqual([DEFAULT_MERCHANT_ID])
    })

    it('takes over from a stalled holder once its lease lapses; the stalled one then lets go', async () => {
      const stalled = createChannelRunner(
        { ...depsA, alipayMessages: a.port },
        { holder: 'worker-c', leaseMs: 30_000 },
      )
      const holder = runnerA.held().length ? runnerA : runnerB
      await stalled.runOnce()
      expect(stalled.held()).toEqual([])
      clock.advance(31_000)
      await stalled.runOnce()
      expect(stalled.held()).toEqual([DEFAULT_MERCHANT_ID])
      await holder.runOnce()
      expect(holder.held()).toEqual([])
      await stalled.stop()
    })

    it('closes the channel and releases the lease when the merchant goes back to HTTP', async () => {
      await runnerA.runOnce()
      await runnerB.runOnce()
      expect(runnerA.held().length + runnerB.held().length).toBe(1)
      await updateMessageChannel(depsA, DEFAULT_MERCHANT_ID, 'http', { actor: 'test' })
      await runnerA.runOnce()
      await runnerB.runOnce()
      expect(a.running() + b.running()).toBe(0)
      const row = await db.db
        .selectFrom('merchants')
        .select(['message_channel_lease_by'])
        .where('id', '=', DEFAULT_MERCHANT_ID)
        .executeTakeFirstOrThrow()
      expect(row.message_channel_lease_by).toBeNull()
    })

    it('a message for a card kaguan does not know is acked (handled as ignored), not failed', async () => {
      const entry = a.channels[0] ?? b.channels[0]
      await expect(
        entry!.onMessage({
          messageId: 'M-unknown',
          msgApi: 'alipay.marketing.card.delete.notify',
          appId: entry!.appId,
          contentText: '{"biz_card_no":"nope"}',
          content: { biz_card_no: 'nope' },
          timestamp: undefined,
        }),
      ).resolves.toBeUndefined()
    })
  })
}
