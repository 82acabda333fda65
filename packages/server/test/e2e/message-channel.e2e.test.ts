// Alipay's message long connection (长连接) end to end: kaguan's worker holds the connection to the
// emulator; card-delete messages arrive over it, go through the same handler as the HTTP gateway,
// and are acked only once committed. Real sockets on 127.0.0.1, SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminClient,
  cardSpec,
  configureMerchant,
  emulatorCards,
  emulatorJson,
  eventually,
  publishCard,
  startStack,
  type AdminClient,
  type Stack,
} from '../helpers/kaguan.js'

interface ChannelState {
  messages: { msgId: string; status: string; attempts: number }[]
  acks: { msgId: string; status: string }[]
}

describe('message long connection (worker ↔ emulator)', () => {
  let stack: Stack
  let admin: AdminClient
  let card: { claimUrl: string }

  const channelState = () =>
    emulatorJson<ChannelState>(
      stack.emulator,
      'GET',
      `/__emulator/channel/messages?appId=${stack.appId}`,
    )
  const connections = async () =>
    (
      await emulatorJson<{ connections: { appId: string; count: number }[] }>(
        stack.emulator,
        'GET',
        '/__emulator/channel/connections',
      )
    ).connections
  const send = async (msgApi: string, content: object, extra: object = {}) =>
    (
      await emulatorJson<{ msgId: string }>(
        stack.emulator,
        'POST',
        '/__emulator/channel/messages',
        {
          appId: stack.appId,
          msgApi,
          content,
          ...extra,
        },
      )
    ).msgId
  const metric = async (line: string) => {
    const text = await (await stack.kaguan.deps.metrics.registry.metrics()).toString()
    const found = text.split('\n').find((l) => l.startsWith(line))
    return found ? Number(found.split(' ').pop()) : 0
  }

  async function openCards(n: number): Promise<string[]> {
    const out: string[] = []
    for (let i = 0; i < n; i++) {
      const { userId } = await emulatorJson<{ userId: string }>(
        stack.emulator,
        'POST',
        '/__emulator/users',
        { name: `用户${i}`, mobile: `1380013${String(i).padStart(4, '0')}`, gender: '男' },
      )
      const claimed = await emulatorJson<{ status: number; body: string }>(
        stack.emulator,
        'POST',
        '/__emulator/claim',
        {
          userId,
          applyCardUrl: card.claimUrl,
          form: {
            OPEN_FORM_FIELD_MOBILE: `1380013${String(i).padStart(4, '0')}`,
            OPEN_FORM_FIELD_NAME: `用户${i}`,
          },
        },
      )
      expect(claimed.status, claimed.body).toBe(200)
      const [opened] = await emulatorCards(stack, { userId })
      out.push(opened!.bizCardNo)
    }
    return out
  }

  beforeAll(async () => {
    stack = await startStack({
      roles: ['management', 'mini', 'worker'],
      env: { KAGUAN_MESSAGE_CHANNEL_LEASE_MS: '1500' },
    })
    admin = await adminClient(stack, 'admin')
    card = await publishCard(admin, cardSpec(await configureMerchant(stack, admin)))
    // The app subscribes its messages over the long connection; a short ack timeout for redelivery.
    await emulatorJson(stack.emulator, 'POST', '/__emulator/apps', {
      appId: stack.appId,
      appPublicKey: stack.appKeys.publicKeyBase64,
      callbackUrls: [`${stack.kaguan.urls.mini}/aliCallback`],
      messageChannel: 'websocket',
    })
    await emulatorJson(stack.emulator, 'POST', '/__emulator/behaviour', {
      channelAckTimeoutMs: 500,
    })
  }, 60_000)
  afterAll(async () => {
    await stack?.close()
  })

  it('switches a merchant to the long connection (audited); the worker connects', async () => {
    const bad = await admin.request('PUT', '/api/merchants/mch_default/message-channel', {
      channel: 'carrier-pigeon',
    })
    expect(bad.status).toBe(400)
    const res = await admin.request('PUT', '/api/merchants/mch_default/message-channel', {
      channel: 'websocket',
    })
    expect(res.status, res.text).toBe(200)
    expect(res.body.messageChannel).toBe('websocket')
    const audit = await stack.kaguan.deps.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'merchant.message_channel.update')
      .execute()
    expect(audit).toHaveLength(1)
    expect(JSON.parse(audit[0]!.after_json!)).toEqual({ messageChannel: 'websocket' })
    await eventually(
      async () => (await connections()).some((c) => c.appId === stack.appId),
      'the worker connected',
    )
    expect(await metric('kaguan_message_channel_connected')).toBe(1)
  })

  it('handles card-delete messages once each, however often the socket drops mid-stream', async () => {
    const cards = await openCards(6)
    const ids: string[] = []
    for (const [i, bizCardNo] of cards.entries()) {
      ids.push(
        await send('alipay.marketing.card.delete.notify', {
          biz_card_no: bizCardNo,
          reason_code: 'USER_UNBUND',
        }),
      )
      // Drop the connection while messages are in flight (handled or not yet acked).
      if (i === 1 || i === 3) {
        await emulatorJson(stack.emulator, 'POST', '/__emulator/channel/drop', {
          appId: stack.appId,
        })
      }
    }
    // A second message about card 0 (another id): the card is deleted already, nothing changes.
    const again = await send(
      'alipay.marketing.card.delete.notify',
      { biz_card_no: cards[0] },
      { msgId: `${ids[0]}-dup` },
    )
    await eventually(
      async () =>
        (await channelState()).messages.every(
          (m) => m.msgId.startsWith('bad') || m.status === 'acked',
        ) || undefined,
      'every message acked',
      30_000,
    )
    const db = stack.kaguan.deps.db
    // 0 lost: every card deleted; 0 handled twice: one delete (audit) per card, one inbox row per id.
    const deleted = await db
      .selectFrom('cards')
      .select(['alipay_card_no', 'status'])
      .where('alipay_card_no', 'in', cards)
      .execute()
    expect(deleted.map((c) => c.status)).toEqual(cards.map(() => 'deleted'))
    const audits = await db
      .selectFrom('audit_log')
      .select(['target_id'])
      .where('action', '=', 'card.delete')
      .execute()
    expect(audits).toHaveLength(cards.length)
    expect(new Set(audits.map((a) => a.target_id)).size).toBe(cards.length)
    const inbox = await db
      .selectFrom('inbound_messages')
      .select(['message_id'])
      .where('message_id', 'in', ids)
      .execute()
    expect(inbox.map((r) => r.message_id).sort()).toEqual([...ids].sort())
    // The second message about card 0 changed nothing (the card was deleted already) and was acked.
    const state = await channelState()
    expect(state.messages.find((m) => m.msgId === again)?.status).toBe('acked')
    expect(state.acks.every((a) => a.status === 'SUCCESS')).toBe(true)
    expect(
      await metric('kaguan_message_channel_messages_total{result="acked"}'),
    ).toBeGreaterThanOrEqual(ids.length + 1)
    // Reconnected after each drop.
    await eventually(
      async () => (await connections()).some((c) => c.appId === stack.appId),
      'reconnected',
    )
  }, 60_000)

  it('refuses a frame with a bad signature and does not ack it', async () => {
    const [bizCardNo] = await openCards(1)
    const before = await metric('kaguan_message_channel_messages_total{result="refused"}')
    const msgId = await send(
      'alipay.marketing.card.delete.notify',
      { biz_card_no: bizCardNo },
      { badSignature: true, msgId: `bad-${Date.now()}` },
    )
    await eventually(
      async () =>
        (await metric('kaguan_message_channel_messages_total{result="refused"}')) >= before + 2,
      'refused (and redelivered, refused again)',
    )
    const state = await channelState()
    expect(state.messages.find((m) => m.msgId === msgId)).toMatchObject({ status: 'pending' })
    expect(state.acks.some((a) => a.msgId === msgId)).toBe(false)
    const [row] = await stack.kaguan.deps.db
      .selectFrom('cards')
      .select('status')
      .where('alipay_card_no', '=', bizCardNo!)
      .execute()
    expect(row!.status).toBe('active')
  })

  it('closes the connection when the merchant goes back to HTTP', async () => {
    const res = await admin.request('PUT', '/api/merchants/mch_default/message-channel', {
      channel: 'http',
    })
    expect(res.status, res.text).toBe(200)
    await eventually(
      async () => !(await connections()).some((c) => c.appId === stack.appId),
      'the worker disconnected',
    )
    const [m] = await stack.kaguan.deps.db
      .selectFrom('merchants')
      .select(['message_channel_lease_by'])
      .where('id', '=', 'mch_default')
      .execute()
    expect(m!.message_channel_lease_by).toBeNull()
  })
})
