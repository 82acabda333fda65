// kill -9 of the kaguan worker that holds the long connection, with messages in flight: a second
// worker takes the merchant over once the lease lapses; Alipay (the emulator) redelivers what was
// not acked. 0 lost, 0 handled twice. The workers are real `kaguan start --role worker` processes
// sharing the test's SQLite file.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
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

const root = new URL('../../../../', import.meta.url).pathname
const main = join(root, 'packages/server/src/cli/main.ts')

describe('long connection: the holding worker killed with SIGKILL mid-stream', () => {
  let stack: Stack
  let admin: AdminClient
  let claimUrl = ''
  const children: ChildProcess[] = []

  function startWorker(): ChildProcess {
    const config = stack.kaguan.deps.config
    const child = spawn(
      process.execPath,
      ['--conditions=@kaguan/source', '--import', 'tsx', main, 'start', '--role', 'worker'],
      {
        cwd: root,
        env: {
          ...Object.fromEntries(
            Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
          ),
          KAGUAN_DATABASE_URL: config.database.url,
          KAGUAN_MASTER_KEY: config.masterKey!.toString('base64'),
          KAGUAN_WORKER_PORT: '0',
          KAGUAN_WORKER_POLL_MS: '100',
          KAGUAN_MESSAGE_CHANNEL_LEASE_MS: '1500',
          KAGUAN_LOG_LEVEL: 'warn',
        },
        stdio: 'ignore',
      },
    )
    children.push(child)
    return child
  }

  const connections = async () =>
    (
      await emulatorJson<{ connections: { appId: string; count: number }[] }>(
        stack.emulator,
        'GET',
        '/__emulator/channel/connections',
      )
    ).connections.find((c) => c.appId === stack.appId)?.count ?? 0
  const channelState = () =>
    emulatorJson<{ messages: { msgId: string; status: string }[]; acks: { msgId: string }[] }>(
      stack.emulator,
      'GET',
      `/__emulator/channel/messages?appId=${stack.appId}`,
    )

  beforeAll(async () => {
    // No worker in this process: only the child workers hold the connection.
    stack = await startStack({ roles: ['management', 'mini'] })
    admin = await adminClient(stack, 'admin')
    claimUrl = (await publishCard(admin, cardSpec(await configureMerchant(stack, admin)))).claimUrl
    await emulatorJson(stack.emulator, 'POST', '/__emulator/apps', {
      appId: stack.appId,
      appPublicKey: stack.appKeys.publicKeyBase64,
      callbackUrls: [`${stack.kaguan.urls.mini}/aliCallback`],
      messageChannel: 'websocket',
    })
    await emulatorJson(stack.emulator, 'POST', '/__emulator/behaviour', {
      channelAckTimeoutMs: 800,
    })
    const res = await admin.request('PUT', '/api/merchants/mch_default/message-channel', {
      channel: 'websocket',
    })
    expect(res.status, res.text).toBe(200)
  }, 60_000)
  afterAll(async () => {
    for (const c of children) {
      c.kill('SIGKILL')
    }
    await stack?.close()
  })

  it('loses nothing and handles nothing twice', async () => {
    const cards: string[] = []
    for (let i = 0; i < 8; i++) {
      const { userId } = await emulatorJson<{ userId: string }>(
        stack.emulator,
        'POST',
        '/__emulator/users',
        { name: `用户${i}`, mobile: `1390013${String(i).padStart(4, '0')}` },
      )
      const claimed = await emulatorJson<{ status: number; body: string }>(
        stack.emulator,
        'POST',
        '/__emulator/claim',
        {
          userId,
          applyCardUrl: claimUrl,
          form: {
            OPEN_FORM_FIELD_MOBILE: `1390013${String(i).padStart(4, '0')}`,
            OPEN_FORM_FIELD_NAME: `用户${i}`,
          },
        },
      )
      expect(claimed.status, claimed.body).toBe(200)
      cards.push((await emulatorCards(stack, { userId }))[0]!.bizCardNo)
    }

    const first = startWorker()
    await eventually(async () => (await connections()) === 1, 'the first worker connected', 60_000)
    const send = async (bizCardNo: string) =>
      (
        await emulatorJson<{ msgId: string }>(
          stack.emulator,
          'POST',
          '/__emulator/channel/messages',
          {
            appId: stack.appId,
            msgApi: 'alipay.marketing.card.delete.notify',
            content: { biz_card_no: bizCardNo },
          },
        )
      ).msgId
    const ids: string[] = []
    for (const bizCardNo of cards.slice(0, 4)) {
      ids.push(await send(bizCardNo))
    }
    await eventually(async () => (await channelState()).acks.length >= 1, 'a first ack', 20_000)
    // The rest go out while the worker is being killed: in flight, handled or not, never acked.
    const exited = new Promise<void>((resolve) => first.once('exit', () => resolve()))
    const late = Promise.all(cards.slice(4).map(send))
    first.kill('SIGKILL')
    ids.push(...(await late))
    await exited
    const afterKill = await channelState()
    startWorker()
    await eventually(
      async () => (await channelState()).messages.every((m) => m.status === 'acked'),
      'every message acked by the second worker',
      60_000,
    )

    const db = stack.kaguan.deps.db
    const rows = await db
      .selectFrom('cards')
      .select('status')
      .where('alipay_card_no', 'in', cards)
      .execute()
    expect(rows.map((r) => r.status)).toEqual(cards.map(() => 'deleted'))
    const audits = await db
      .selectFrom('audit_log')
      .select('target_id')
      .where('action', '=', 'card.delete')
      .execute()
    expect(audits).toHaveLength(cards.length)
    expect(new Set(audits.map((a) => a.target_id)).size).toBe(cards.length)
    const inbox = await db
      .selectFrom('inbound_messages')
      .select('message_id')
      .where('message_id', 'in', ids)
      .execute()
    expect(inbox.map((r) => r.message_id).sort()).toEqual([...ids].sort())
    // The kill did land mid-stream: not everything was acked by the first worker.
    expect(afterKill.messages.some((m) => m.status !== 'acked')).toBe(true)
  }, 180_000)
})
