import { createCoreClient, generateKeyPair, signParams, withReplayGuard } from '@kaguan/crm-sdk'
import { startSampleCrm } from '@kaguan/sample-crm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cardOutboxHandlers } from '../../src/modules/cards/index.js'
import { createOutboxWorker, outboxCounts } from '../../src/modules/outbox/index.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import {
  adminClient,
  cardSpec,
  configureMerchant,
  emulatorJson,
  type EmulatorCard,
  eventually,
  publishCard,
  startStack,
  type AdminClient,
  type Stack,
} from '../helpers/kaguan.js'

async function claimedCard(stack: Stack, claimUrl: string): Promise<EmulatorCard> {
  const { userId } = await emulatorJson<{ userId: string }>(
    stack.emulator,
    'POST',
    '/__emulator/users',
    { name: '李四', mobile: '13900139000' },
  )
  const res = await emulatorJson<{ status: number; body: string }>(
    stack.emulator,
    'POST',
    '/__emulator/claim',
    {
      userId,
      applyCardUrl: claimUrl,
      form: { OPEN_FORM_FIELD_MOBILE: '13900139000', OPEN_FORM_FIELD_NAME: '李四' },
    },
  )
  if (res.status !== 200) {
    throw new Error(res.body)
  }
  const [card] = await emulatorJson<EmulatorCard[]>(
    stack.emulator,
    'GET',
    `/__emulator/cards?userId=${userId}`,
  )
  return card!
}

const emulatorCard = async (stack: Stack, alipayCardNo: string) =>
  (await emulatorJson<EmulatorCard[]>(stack.emulator, 'GET', '/__emulator/cards')).find(
    (c) => c.bizCardNo === alipayCardNo,
  )!
const updateCalls = async (stack: Stack) =>
  (
    await emulatorJson<unknown[]>(
      stack.emulator,
      'GET',
      '/__emulator/calls?method=alipay.marketing.card.update',
    )
  ).length

async function crmStack(
  options: { databaseUrl?: string; roles?: ('management' | 'mini' | 'core' | 'worker')[] } = {},
) {
  const stack = await startStack(options)
  const admin = await adminClient(stack, 'admin')
  const keys = generateKeyPair()
  const crm = await startSampleCrm({
    port: 0,
    token: 'core-test-token',
    privateKey: keys.privateKey,
    kaguanCoreUrl: stack.kaguan.urls.core!,
  })
  const images = await configureMerchant(stack, admin, {
    baseUrl: crm.url,
    token: 'core-test-token',
    publicKey: keys.publicKey,
  })
  const card = await publishCard(admin, cardSpec(images))
  const client = createCoreClient({ baseUrl: stack.kaguan.urls.core!, privateKey: keys.privateKey })
  return { stack, admin, keys, crm, card, client }
}

describe('the CRM-facing core API and card sync', () => {
  let env: Awaited<ReturnType<typeof crmStack>>
  let stack: Stack
  let admin: AdminClient

  beforeAll(async () => {
    env = await crmStack()
    stack = env.stack
    admin = env.admin
  })
  afterAll(async () => {
    await env?.crm.close()
    await stack?.close()
  })

  it('takes a signed /card/update and the Alipay card shows the new points', async () => {
    const card = await claimedCard(stack, env.card.claimUrl)
    const result = await env.client.updateCard({
      templateId: env.card.alipayTemplateId,
      bizCardNo: card.externalCardNo,
      point: '2580',
      changeReason: '消费积分',
      level: 'GOLD',
    })
    expect(result).toEqual({ status: 'OK' })
    const shown = await eventually(async () => {
      const c = await emulatorCard(stack, card.bizCardNo)
      return Number(c.point) === 2580 ? c : undefined
    }, 'the pushed points')
    expect(shown.level).toBe('GOLD')
  })

  it('accepts form bodies as the seed allows', async () => {
    const card = await claimedCard(stack, env.card.claimUrl)
    const params = withReplayGuard({
      templateId: env.card.alipayTemplateId,
      bizCardNo: card.externalCardNo,
      point: '77',
      changeReason: 'form',
    })
    const body = new URLSearchParams({ ...params, sign: signParams(params, env.keys.privateKey) })
    const res = await fetch(`${stack.kaguan.urls.core}/card/update`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    })
    expect(await res.json()).toEqual({ status: 'OK' })
  })

  it('refuses a bad signature, another key, a changed parameter and a replayed nonce, changing nothing', async () => {
    const card = await claimedCard(stack, env.card.claimUrl)
    const post = async (body: Record<string, string>) => {
      const res = await fetch(`${stack.kaguan.urls.core}/card/update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return (await res.json()) as { status: string; errcode?: string; errmsg?: string }
    }
    const base = withReplayGuard({
      templateId: env.card.alipayTemplateId,
      bizCardNo: card.externalCardNo,
      point: '999999',
      changeReason: 'attack',
    })
    const signed = { ...base, sign: signParams(base, env.keys.privateKey) }

    expect(await post({ ...signed, sign: 'AAAA' + signed.sign.slice(4) })).toMatchObject({
      status: 'FAIL',
      errcode: 'CRM_SIGNATURE_INVALID',
    })
    const other = generateKeyPair()
    expect(await post({ ...base, sign: signParams(base, other.privateKey) })).toMatchObject({
      status: 'FAIL',
      errcode: 'CRM_SIGNATURE_INVALID',
    })
    expect(await post({ ...signed, point: '1000000' })).toMatchObject({
      status: 'FAIL',
      errcode: 'CRM_SIGNATURE_INVALID',
    })
    const { sign: _s, ...unsigned } = signed
    expect(await post(unsigned)).toMatchObject({ status: 'FAIL', errcode: 'CRM_SIGNATURE_MISSING' })
    const stale = withReplayGuard(
      {
        templateId: env.card.alipayTemplateId,
        bizCardNo: card.externalCardNo,
        point: '999999',
        changeReason: 'attack',
      },
      { now: Date.now() - 10 * 60_000 },
    )
    expect(await post({ ...stale, sign: signParams(stale, env.keys.privateKey) })).toMatchObject({
      status: 'FAIL',
      errcode: 'CRM_TIMESTAMP_SKEW',
    })

    expect(await post(signed)).toEqual({ status: 'OK' })
    const replay = await post(signed)
    expect(replay).toMatchObject({ status: 'FAIL', errcode: 'CRM_NONCE_REPLAYED' })

    const missing = withReplayGuard({
      templateId: env.card.alipayTemplateId,
      bizCardNo: card.externalCardNo,
      changeReason: 'x',
    })
    const noPoint = await post({ ...missing, sign: signParams(missing, env.keys.privateKey) })
    expect(noPoint).toMatchObject({ status: 'FAIL', errcode: 'REQUEST_INVALID' })
    expect(noPoint.errmsg).toContain('point')

    const members = await admin.request(
      'GET',
      `/api/merchants/mch_default/members?bizCardNo=${card.externalCardNo}`,
    )
    const entries = (await admin.request('GET', `/api/cards/${members.body.items[0].cards[0].id}`))
      .body.points
    expect(entries.filter((e: any) => e.source === 'crm')).toHaveLength(1)
  })

  it('checks a timestamp without a nonce, refuses a nonce without a timestamp and an ambiguous value', async () => {
    const card = await claimedCard(stack, env.card.claimUrl)
    const post = async (params: Record<string, string>) => {
      const res = await fetch(`${stack.kaguan.urls.core}/card/update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...params, sign: signParams(params, env.keys.privateKey) }),
      })
      return (await res.json()) as { status: string; errcode?: string; errmsg?: string }
    }
    const base = {
      templateId: env.card.alipayTemplateId,
      bizCardNo: card.externalCardNo,
      point: '1',
      changeReason: 'roll back',
    }
    expect(await post({ ...base, timestamp: String(Date.now() - 10 * 60_000) })).toMatchObject({
      status: 'FAIL',
      errcode: 'CRM_TIMESTAMP_SKEW',
    })
    expect(await post({ ...base, nonce: 'n-without-timestamp' })).toMatchObject({
      status: 'FAIL',
      errcode: 'CRM_TIMESTAMP_MISSING',
    })
    const ambiguous = await post({ ...base, changeReason: 'x&level=GOLD' })
    expect(ambiguous).toMatchObject({ status: 'FAIL', errcode: 'SIGN_AMBIGUOUS' })
    expect(ambiguous.errmsg).toContain('changeReason')
    const shown = await emulatorCard(stack, card.bizCardNo)
    expect(Number(shown.point)).not.toBe(1)
    expect(await post({ ...base, timestamp: String(Date.now()) })).toEqual({ status: 'OK' })
  })

  it('requires timestamp and nonce in strict mode', async () => {
    const card = await claimedCard(stack, env.card.claimUrl)
    await admin.request('PUT', '/api/merchants/mch_default/crm', {
      mode: 'crm',
      strictReplay: true,
    })
    const bare = {
      templateId: env.card.alipayTemplateId,
      bizCardNo: card.externalCardNo,
      point: '5',
      changeReason: 'strict',
    }
    const res = await fetch(`${stack.kaguan.urls.core}/card/update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...bare, sign: signParams(bare, env.keys.privateKey) }),
    })
    expect(await res.json()).toMatchObject({ status: 'FAIL', errcode: 'CRM_REPLAY_GUARD_REQUIRED' })
    expect((await env.client.updateCard(bare)).status).toBe('OK')
    await admin.request('PUT', '/api/merchants/mch_default/crm', {
      mode: 'crm',
      strictReplay: false,
    })
  })

  it('collapses 1,000 updates to one card into far fewer Alipay calls, and the last value wins', async () => {
    const card = await claimedCard(stack, env.card.claimUrl)
    const before = await updateCalls(stack)
    for (let i = 1; i <= 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          env.client.updateCard({
            templateId: env.card.alipayTemplateId,
            bizCardNo: card.externalCardNo,
            point: String(i + j),
            changeReason: 'burst',
          }),
        ),
      )
    }
    const last = await env.client.updateCard({
      templateId: env.card.alipayTemplateId,
      bizCardNo: card.externalCardNo,
      point: '5000',
      changeReason: 'last',
    })
    expect(last.status).toBe('OK')
    await eventually(
      async () => Number((await emulatorCard(stack, card.bizCardNo)).point) === 5000,
      'the last value on the card',
      20_000,
    )
    const pushes = (await updateCalls(stack)) - before
    expect(pushes).toBeGreaterThan(0)
    expect(pushes).toBeLessThan(200)
  }, 60_000)

  it('delays but loses no update while Alipay is failing', async () => {
    const card = await claimedCard(stack, env.card.claimUrl)
    await emulatorJson(stack.emulator, 'POST', '/__emulator/faults', {
      kind: 'code20000',
      method: 'alipay.marketing.card.update',
      count: 3,
    })
    expect(
      (
        await env.client.updateCard({
          templateId: env.card.alipayTemplateId,
          bizCardNo: card.externalCardNo,
          point: '321',
          changeReason: 'outage',
        })
      ).status,
    ).toBe('OK')
    await eventually(
      async () => Number((await emulatorCard(stack, card.bizCardNo)).point) === 321,
      'the update after the outage',
      30_000,
    )
    await emulatorJson(stack.emulator, 'DELETE', '/__emulator/faults')
  }, 40_000)

  it('moves a card to another template with /card/changeTemplate', async () => {
    const images = await configureMerchant(stack, admin, undefined)
    const gold = await publishCard(admin, cardSpec(images, { name: '金卡' }))
    const card = await claimedCard(stack, env.card.claimUrl)
    const res = await env.client.changeTemplate({
      templateId: env.card.alipayTemplateId,
      bizCardNo: card.externalCardNo,
      targetTemplateId: gold.alipayTemplateId,
      changeReason: '升级',
    })
    expect(res).toEqual({ status: 'OK' })
    await eventually(
      async () => (await emulatorCard(stack, card.bizCardNo)).templateId === gold.alipayTemplateId,
      'the card on the new template',
    )
  })
})

for (const dialect of DIALECTS.filter((d) => d === 'postgres')) {
  describe(`${dialect}: two workers on one database`, () => {
    let db: TestDb
    let env: Awaited<ReturnType<typeof crmStack>>

    beforeAll(async () => {
      db = await createTestDb('postgres')
      env = await crmStack({ databaseUrl: db.url, roles: ['management', 'mini', 'core'] })
    })
    afterAll(async () => {
      await env?.crm.close()
      await env?.stack.close()
      await db?.destroy()
    })

    it('push each change once', async () => {
      const cards = await Promise.all(
        Array.from({ length: 8 }, () => claimedCard(env.stack, env.card.claimUrl)),
      )
      const deps = env.stack.kaguan.deps
      const handlers = cardOutboxHandlers(deps, { alipayCallsPerSecond: 1000 })
      const workers = ['w1', 'w2'].map((id) =>
        createOutboxWorker({
          db: deps.db,
          dialect: deps.dialect,
          clock: deps.clock,
          log: deps.log,
          handlers,
          workerId: id,
          pollMs: 10,
          batchSize: 3,
        }),
      )
      const before = await updateCalls(env.stack)
      workers.forEach((w) => w.start())
      for (let round = 1; round <= 5; round++) {
        await Promise.all(
          cards.map((c) =>
            env.client.updateCard({
              templateId: env.card.alipayTemplateId,
              bizCardNo: c.externalCardNo,
              point: String(round * 10),
              changeReason: 'round',
            }),
          ),
        )
        await new Promise((r) => setTimeout(r, 30))
      }
      await eventually(
        async () =>
          (await Promise.all(cards.map((c) => emulatorCard(env.stack, c.bizCardNo)))).every(
            (c) => Number(c.point) === 50,
          ),
        'every card at 50',
        20_000,
      )
      await eventually(
        async () => !(await outboxCounts(deps)).pending && !(await outboxCounts(deps)).running,
        'an empty outbox',
      )
      await Promise.all(workers.map((w) => w.stop()))
      const counts = await outboxCounts(deps)
      const pushes = (await updateCalls(env.stack)) - before
      // Every delivered push entry made exactly one Alipay call: none was pushed by both workers.
      const delivered = await deps.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('topic', '=', 'alipay.cardPush')
        .where('status', '=', 'done')
        .executeTakeFirstOrThrow()
      expect(counts.parked ?? 0).toBe(0)
      expect(pushes).toBeLessThanOrEqual(Number(delivered.n))
      expect(pushes).toBeGreaterThanOrEqual(cards.length)
      // Each (card, value) reached Alipay once: a change pushed by both workers would repeat.
      const calls = await emulatorJson<
        { bizContent: { target_card_no: string; card_info: { point: string } } }[]
      >(env.stack.emulator, 'GET', '/__emulator/calls?method=alipay.marketing.card.update')
      const pushed = calls
        .slice(-pushes)
        .map((c) => `${c.bizContent.target_card_no}:${c.bizContent.card_info.point}`)
      expect(new Set(pushed).size).toBe(pushed.length)
    }, 60_000)
  })
}
