// The long-connection client against the emulator's channel server (real sockets on 127.0.0.1).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startEmulator, type ChannelMessageView } from '@kaguan/emulator'
import {
  channelUrlOf,
  createMessageChannel,
  formatFrame,
  linkTokenOf,
  parseFrame,
  signContent,
  topLevelMembers,
  verifyConsume,
  type ChannelEvent,
  type ChannelMessage,
  type MessageChannel,
} from '../src/index.js'
import { alipayKeys, appKeys } from './helpers/keys.js'

const APP_ID = '2021009900000077'

type Running = Awaited<ReturnType<typeof startEmulator>>

async function driver<T>(base: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) {
    throw new Error(`${path}: HTTP ${response.status} ${text}`)
  }
  return JSON.parse(text) as T
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms
  for (let i = 0; i < 2000 && Date.now() < end; i++) {
    if (await check()) {
      return
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c()
  }
})

async function emulatorWithApp(options: { port?: number; dbFile?: string } = {}) {
  const emu = await startEmulator({
    port: options.port ?? 0,
    alipayPrivateKey: alipayKeys.privateKey,
    behaviour: { channelAckTimeoutMs: 600 },
    ...(options.dbFile ? { dbFile: options.dbFile } : {}),
  })
  await driver(emu.url, '/__emulator/apps', {
    appId: APP_ID,
    appPublicKey: appKeys.publicKey,
    messageChannel: 'websocket',
  })
  return emu
}

function channel(
  emu: { url: string },
  onMessage: (m: ChannelMessage) => Promise<void>,
  events: ChannelEvent[] = [],
): MessageChannel {
  const ch = createMessageChannel({
    appId: APP_ID,
    privateKey: appKeys.privateKey,
    alipayPublicKey: alipayKeys.publicKey,
    serverUrl: emu.url,
    onMessage,
    onEvent: (e) => events.push(e),
    pingMs: 200,
    backoff: { baseMs: 50, maxMs: 400 },
    timeoutMs: 3000,
  })
  cleanups.push(() => ch.stop())
  return ch
}

const list = (emu: { url: string }) =>
  driver<{ messages: ChannelMessageView[]; acks: { msgId: string; status: string }[] }>(
    emu.url,
    `/__emulator/channel/messages?appId=${APP_ID}`,
  )

describe('frames', () => {
  it('parses header lines and the body, and keeps the raw data text for the signature', () => {
    const data = '{"header":{"appId":"1","msgApi":"m"},"content":{"a":"x}\\"{","b":[1,{"c":2}]}}'
    const body = `{"protocol":{"x-type":"message","x-cmd":"CONSUME","x-msgId":"M1","x-signType":"RSA2","x-charset":"UTF-8","x-sign":"${signContent(data, alipayKeys.privateKey)}"},"data":${data}}`
    const frame = parseFrame(formatFrame({ 'stream-id': 's1', 'from-sys': 'x' }, body))
    expect(frame?.headers).toEqual({ 'stream-id': 's1', 'from-sys': 'x' })
    expect(topLevelMembers(frame!.body)?.data).toBe(data)
    const ok = verifyConsume(frame!.body, alipayKeys.publicKey)
    expect(ok.ok && ok.message.content).toEqual({ a: 'x}"{', b: [1, { c: 2 }] })
    // The same data re-serialised (spaces) no longer verifies: the signature covers the raw text.
    const reformatted = body.replace(data, JSON.stringify(JSON.parse(data), null, 1))
    expect(verifyConsume(reformatted, alipayKeys.publicKey)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    })
    expect(verifyConsume(body, appKeys.publicKey)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    })
    expect(parseFrame('no blank line')).toBeNull()
    expect(formatFrame({}, '{}')).toBe('\r\n\r\n{}')
  })
})

describe('register answer and hosts', () => {
  const answer = (response: object, key = alipayKeys.privateKey) => {
    const text = JSON.stringify(response)
    return `{"response":${text},"sign":"${signContent(text, key)}"}`
  }
  it('takes the link token only from a signed success answer', () => {
    expect(
      linkTokenOf(answer({ code: '10000', link_token: 'T1' }), alipayKeys.publicKey, 'RSA2'),
    ).toBe('T1')
    expect(() =>
      linkTokenOf(
        answer({ code: '10000', link_token: 'T1' }, appKeys.privateKey),
        alipayKeys.publicKey,
        'RSA2',
      ),
    ).toThrow(/does not verify/)
    expect(() =>
      linkTokenOf(
        answer({ code: '40002', sub_code: 'isv.invalid-signature' }),
        alipayKeys.publicKey,
        'RSA2',
      ),
    ).toThrow(/refused: 40002 isv.invalid-signature/)
    expect(() =>
      linkTokenOf('{"response":{"code":"10000","link_token":"T"}}', alipayKeys.publicKey, 'RSA2'),
    ).toThrow(/does not verify/)
    expect(() => linkTokenOf('<html>bad gateway</html>', alipayKeys.publicKey, 'RSA2')).toThrow(
      /not an Alipay answer/,
    )
  })
  it("uses Alipay's openchannel host for Alipay's gateways and the gateway's origin otherwise", () => {
    expect(channelUrlOf('https://openapi.alipay.com/gateway.do')).toBe(
      'https://openchannel.alipay.com',
    )
    expect(channelUrlOf('http://127.0.0.1:8090/gateway.do')).toBe('http://127.0.0.1:8090')
  })
})

describe('message channel against the emulator', () => {
  it('registers, connects and acks each message SUCCESS after the handler resolves', async () => {
    const emu = await emulatorWithApp()
    cleanups.push(() => emu.close())
    const got: ChannelMessage[] = []
    const ch = channel(emu, async (m) => {
      got.push(m)
    })
    ch.start()
    await until('connected', () => ch.connected)
    const sent = await driver<{ msgId: string }>(emu.url, '/__emulator/channel/messages', {
      appId: APP_ID,
      msgApi: 'alipay.user.opencard.result.notify',
      content: { biz_card_no: 'B1', 中文: '会员' },
    })
    await until('acked', async () => (await list(emu)).messages.every((m) => m.status === 'acked'))
    expect(got).toHaveLength(1)
    expect(got[0]).toMatchObject({
      messageId: sent.msgId,
      msgApi: 'alipay.user.opencard.result.notify',
      appId: APP_ID,
      content: { biz_card_no: 'B1', 中文: '会员' },
    })
    expect((await list(emu)).acks).toEqual([
      expect.objectContaining({ msgId: sent.msgId, status: 'SUCCESS' }),
    ])
  })

  it('refuses a frame with a bad signature: not handled, not acked', async () => {
    const emu = await emulatorWithApp()
    cleanups.push(() => emu.close())
    const events: ChannelEvent[] = []
    const got: string[] = []
    const ch = channel(
      emu,
      async (m) => {
        got.push(m.messageId)
      },
      events,
    )
    ch.start()
    await until('connected', () => ch.connected)
    const bad = await driver<{ msgId: string }>(emu.url, '/__emulator/channel/messages', {
      appId: APP_ID,
      msgApi: 'x.y',
      content: {},
      badSignature: true,
    })
    const good = await driver<{ msgId: string }>(emu.url, '/__emulator/channel/messages', {
      appId: APP_ID,
      msgApi: 'x.y',
      content: {},
    })
    // The bad one is redelivered after the ack timeout and refused again.
    await until(
      'the bad frame refused twice',
      () => events.filter((e) => e.type === 'refused' && e.messageId === bad.msgId).length >= 2,
    )
    const state = await list(emu)
    expect(got).toEqual([good.msgId])
    expect(state.acks.map((a) => a.msgId)).toEqual([good.msgId])
    expect(state.messages.find((m) => m.msgId === bad.msgId)).toMatchObject({ status: 'pending' })
    expect(events.find((e) => e.type === 'refused')).toMatchObject({ reason: 'bad-signature' })
  })

  it('acks FAIL when the handler fails, and the message comes again', async () => {
    const emu = await emulatorWithApp()
    cleanups.push(() => emu.close())
    let calls = 0
    const ch = channel(emu, async () => {
      calls++
      if (calls === 1) {
        throw new Error('database down')
      }
    })
    ch.start()
    await until('connected', () => ch.connected)
    await driver(emu.url, '/__emulator/channel/messages', {
      appId: APP_ID,
      msgApi: 'x',
      content: {},
    })
    await until('acked', async () => (await list(emu)).messages[0]?.status === 'acked')
    expect(calls).toBe(2)
    expect((await list(emu)).acks.map((a) => a.status)).toEqual(['FAIL', 'SUCCESS'])
  })

  it('loses nothing when the socket drops with messages in flight; reconnects with back-off', async () => {
    const emu = await emulatorWithApp()
    cleanups.push(() => emu.close())
    const handled = new Map<string, number>()
    const events: ChannelEvent[] = []
    const ch = channel(
      emu,
      async (m) => {
        // Slow enough that drops land while messages are being handled.
        await new Promise((r) => setTimeout(r, 15))
        handled.set(m.messageId, (handled.get(m.messageId) ?? 0) + 1)
      },
      events,
    )
    ch.start()
    await until('connected', () => ch.connected)
    const ids: string[] = []
    for (let i = 0; i < 40; i++) {
      ids.push(
        (
          await driver<{ msgId: string }>(emu.url, '/__emulator/channel/messages', {
            appId: APP_ID,
            msgApi: 'x',
            content: { i },
          })
        ).msgId,
      )
      if (i % 10 === 5) {
        await driver(emu.url, '/__emulator/channel/drop', { appId: APP_ID })
      }
    }
    await until(
      'all acked',
      async () => (await list(emu)).messages.every((m) => m.status === 'acked'),
      20_000,
    )
    // Every message reached the handler; a redelivery after a drop may reach it again (at least
    // once — the server's inbox dedupes), but none is lost.
    expect(ids.every((id) => (handled.get(id) ?? 0) >= 1)).toBe(true)
    expect(events.filter((e) => e.type === 'connected').length).toBeGreaterThanOrEqual(2)
    expect(events.some((e) => e.type === 'retry')).toBe(true)
  })

  it('reconnects after the emulator restarts and gets what was queued meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaguan-channel-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const dbFile = join(dir, 'emu.db')
    let emu: Running = await emulatorWithApp({ dbFile })
    const port = Number(new URL(emu.url).port)
    const got: string[] = []
    const ch = channel(emu, async (m) => {
      got.push(m.messageId)
    })
    ch.start()
    await until('connected', () => ch.connected)
    await emu.close()
    await until('disconnected', () => !ch.connected)
    emu = await emulatorWithApp({ port, dbFile })
    cleanups.push(() => emu.close())
    const sent = await driver<{ msgId: string }>(emu.url, '/__emulator/channel/messages', {
      appId: APP_ID,
      msgApi: 'x',
      content: {},
    })
    await until('reconnected and delivered', () => got.includes(sent.msgId), 15_000)
    expect(ch.connected).toBe(true)
  })

  it('stops cleanly: no reconnect after stop', async () => {
    const emu = await emulatorWithApp()
    cleanups.push(() => emu.close())
    const ch = channel(emu, async () => undefined)
    ch.start()
    await until('connected', () => ch.connected)
    await ch.stop()
    expect(ch.connected).toBe(false)
    await new Promise((r) => setTimeout(r, 300))
    const { connections } = await driver<{ connections: unknown[] }>(
      emu.url,
      '/__emulator/channel/connections',
    )
    expect(connections).toEqual([])
  })
})
