import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { createCoreClient, generateKeyPair, signParams, withReplayGuard } from '@kaguan/crm-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

const root = new URL('../../../../', import.meta.url).pathname

describe('no-CRM mode: the till API, reconciliation and parked deliveries', () => {
  let stack: Stack
  let admin: AdminClient
  let card: { templateId: string; alipayTemplateId: string; claimUrl: string }
  const till = generateKeyPair()

  const claimed = async (): Promise<EmulatorCard> => {
    const { userId } = await emulatorJson<{ userId: string }>(
      stack.emulator,
      'POST',
      '/__emulator/users',
      { name: '王五', mobile: '13700137000' },
    )
    await emulatorJson(stack.emulator, 'POST', '/__emulator/claim', {
      userId,
      applyCardUrl: card.claimUrl,
      form: { OPEN_FORM_FIELD_MOBILE: '13700137000', OPEN_FORM_FIELD_NAME: '王五' },
    })
    return (
      await emulatorJson<EmulatorCard[]>(
        stack.emulator,
        'GET',
        `/__emulator/cards?userId=${userId}`,
      )
    )[0]!
  }
  const onAlipay = async (alipayCardNo: string) =>
    (await emulatorJson<EmulatorCard[]>(stack.emulator, 'GET', '/__emulator/cards')).find(
      (c) => c.bizCardNo === alipayCardNo,
    )!

  const call = async (path: string, params: Record<string, string>) => {
    const guarded = withReplayGuard(params)
    const res = await fetch(`${stack.kaguan.urls.core}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...guarded, sign: signParams(guarded, till.privateKey) }),
    })
    return (await res.json()) as any
  }

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    const images = await configureMerchant(stack, admin)
    // No CRM: the key signs the merchant's own till and app calls.
    await admin.request('PUT', '/api/merchants/mch_default/crm', {
      mode: 'none',
      publicKey: till.publicKey,
    })
    card = await publishCard(admin, cardSpec(images, { code: 'dynamicQr' }))
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('adds and takes points once per idempotency key, never below zero, and Alipay follows', async () => {
    const c = await claimed()
    const add = {
      templateId: card.alipayTemplateId,
      bizCardNo: c.externalCardNo,
      delta: '40',
      reason: '消费',
      idempotencyKey: 'order-1001',
    }
    expect(await call('/api/points/adjust', add)).toMatchObject({
      status: 'OK',
      replayed: false,
      card: { point: 50 },
    })
    expect(await call('/api/points/adjust', add)).toMatchObject({
      status: 'OK',
      replayed: true,
      card: { point: 50 },
    })
    expect(await call('/api/points/adjust', { ...add, delta: '41' })).toMatchObject({
      status: 'FAIL',
      errcode: 'IDEMPOTENCY_KEY_REUSED',
    })
    expect(
      await call('/api/points/adjust', { ...add, delta: '-60', idempotencyKey: 'redeem-1' }),
    ).toMatchObject({ status: 'FAIL', errcode: 'POINTS_INSUFFICIENT' })
    expect(
      await call('/api/points/adjust', { ...add, delta: '-20', idempotencyKey: 'redeem-2' }),
    ).toMatchObject({ status: 'OK', card: { point: 30 } })
    expect(
      await call('/api/cards/set', {
        templateId: card.alipayTemplateId,
        bizCardNo: c.externalCardNo,
        level: 'PLATINUM',
        changeReason: 'x',
      }),
    ).toMatchObject({ status: 'FAIL', errcode: 'CARD_LEVEL_UNKNOWN' })
    expect(
      await call('/api/cards/set', {
        templateId: card.alipayTemplateId,
        bizCardNo: c.externalCardNo,
        level: 'GOLD',
        balance: '12.50',
        changeReason: '升级',
      }),
    ).toMatchObject({ status: 'OK', card: { level: 'GOLD', balance: '12.50' } })
    await eventually(
      async () => Number((await onAlipay(c.bizCardNo)).point) === 30,
      'the points on Alipay',
    )
    expect(
      await call('/api/cards/query', {
        templateId: card.alipayTemplateId,
        bizCardNo: c.externalCardNo,
      }),
    ).toMatchObject({ status: 'OK', card: { point: 30, level: 'GOLD', balance: '12.50' } })
  })

  it('changes the card of the template the call names when a member holds several', async () => {
    const other = await publishCard(
      admin,
      cardSpec(await configureMerchant(stack, admin), { name: '第二张卡' }),
    )
    const { userId } = await emulatorJson<{ userId: string }>(
      stack.emulator,
      'POST',
      '/__emulator/users',
      { name: '赵六' },
    )
    for (const url of [card.claimUrl, other.claimUrl]) {
      await emulatorJson(stack.emulator, 'POST', '/__emulator/claim', {
        userId,
        applyCardUrl: url,
        form: { OPEN_FORM_FIELD_MOBILE: '13600136000', OPEN_FORM_FIELD_NAME: '赵六' },
      })
    }
    const both = await emulatorJson<EmulatorCard[]>(
      stack.emulator,
      'GET',
      `/__emulator/cards?userId=${userId}`,
    )
    expect(both).toHaveLength(2)
    expect(both[0]!.externalCardNo).toBe(both[1]!.externalCardNo)
    const first = both.find((c) => c.templateId === card.alipayTemplateId)!
    expect(
      await call('/api/points/adjust', {
        templateId: card.alipayTemplateId,
        bizCardNo: first.externalCardNo,
        delta: '5',
        reason: 'x',
        idempotencyKey: 'two-cards-1',
      }),
    ).toMatchObject({ status: 'OK', card: { point: 15, alipayCardNo: first.bizCardNo } })
  })

  it('makes a dynamic code a till can verify once', async () => {
    const c = await claimed()
    await emulatorJson(stack.emulator, 'POST', `/__emulator/cards/${c.bizCardNo}/show`)
    const code = await eventually(
      async () => (await onAlipay(c.bizCardNo)).code ?? undefined,
      'a dynamic code',
    )
    expect(
      await call('/api/codes/verify', { templateId: card.alipayTemplateId, code }),
    ).toMatchObject({ status: 'OK', card: { bizCardNo: c.externalCardNo } })
    expect(
      await call('/api/codes/verify', { templateId: card.alipayTemplateId, code }),
    ).toMatchObject({ status: 'FAIL', errcode: 'CODE_INVALID' })
  })

  it("shows a mini-program component the user's card, given the user's auth code", async () => {
    const c = await claimed()
    const owner = (
      await emulatorJson<EmulatorCard[]>(stack.emulator, 'GET', '/__emulator/cards')
    ).find((x) => x.bizCardNo === c.bizCardNo) as EmulatorCard & { userId: string }
    const component = await admin.request('POST', '/api/merchants/mch_default/components', {
      name: '首页',
      templateId: card.templateId,
    })
    const authCode = async (userId: string) =>
      (
        await emulatorJson<{ authCode: string }>(stack.emulator, 'POST', '/__emulator/auth-codes', {
          userId,
          appId: stack.appId,
        })
      ).authCode
    const res = await fetch(
      `${stack.kaguan.urls.mini}/api/components/${component.body.id}/card?authCode=${await authCode(owner.userId)}`,
    )
    expect(res.status).toBe(200)
    const shown = (await res.json()) as any
    expect(shown).toMatchObject({
      bizCardNo: c.externalCardNo,
      point: 10,
      level: 'SILVER',
      code: { type: 'dynamicQr' },
    })
    expect(shown.code.codeValue).toMatch(/^66\d{16}$/)
    const stranger = await emulatorJson<{ userId: string }>(
      stack.emulator,
      'POST',
      '/__emulator/users',
      { name: '路人' },
    )
    const none = await fetch(
      `${stack.kaguan.urls.mini}/api/components/${component.body.id}/card?authCode=${await authCode(stranger.userId)}`,
    )
    expect(none.status).toBe(404)
    expect(((await none.json()) as any).errcode).toBe('CARD_NOT_FOUND')
  })

  it('parks a push Alipay keeps refusing, shows it with the reason, and delivers it on retry', async () => {
    const c = await claimed()
    await emulatorJson(stack.emulator, 'POST', '/__emulator/faults', {
      kind: 'badSignature',
      method: 'alipay.marketing.card.update',
      count: 1,
    })
    const client = createCoreClient({
      baseUrl: stack.kaguan.urls.core!,
      privateKey: till.privateKey,
    })
    expect(
      (
        await client.updateCard({
          templateId: card.alipayTemplateId,
          bizCardNo: c.externalCardNo,
          point: '777',
          changeReason: 'x',
        })
      ).status,
    ).toBe('OK')
    const parked = await eventually(async () => {
      const r = await admin.request('GET', '/api/outbox?status=parked')
      return r.body.items.length ? r.body.items : undefined
    }, 'a parked entry')
    expect(parked[0].lastError).toMatch(/signature/i)
    // Alipay's answer could not be trusted, so kaguan does not count the push as delivered.
    const mine = async () =>
      (
        await admin.request(
          'GET',
          `/api/merchants/mch_default/members?bizCardNo=${c.externalCardNo}`,
        )
      ).body.items[0].cards[0]
    expect((await mine()).syncPending).toBe(true)
    expect((await admin.request('POST', '/api/outbox/retry', { all: true })).body).toEqual({
      retried: 1,
    })
    await eventually(async () => (await mine()).syncPending === false, 'the retried push')
    expect(Number((await onAlipay(c.bizCardNo)).point)).toBe(777)
  })

  it('reconciles: a card gone from the wallet without notice is deleted, drifted values are pushed again', async () => {
    const gone = await claimed()
    const drifted = await claimed()
    await emulatorJson(stack.emulator, 'POST', '/__emulator/faults', {
      kind: 'dropNotify',
      method: 'card_delete',
    })
    await emulatorJson(stack.emulator, 'POST', `/__emulator/cards/${gone.bizCardNo}/remove`)
    await emulatorJson(stack.emulator, 'DELETE', '/__emulator/faults')
    // kaguan's state moved without a push reaching Alipay (e.g. restored from a backup).
    await stack.kaguan.deps.db
      .updateTable('cards')
      .set({ point: 4242 })
      .where('alipay_card_no', '=', drifted.bizCardNo)
      .execute()

    const config = stack.kaguan.deps.config
    const run = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          '--conditions=@kaguan/source',
          '--import',
          'tsx',
          join(root, 'packages/server/src/cli/main.ts'),
          'reconcile',
        ],
        {
          cwd: root,
          timeout: 60_000,
          env: {
            ...Object.fromEntries(
              Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
            ),
            KAGUAN_DATABASE_URL: config.database.url,
            KAGUAN_MASTER_KEY: config.masterKey!.toString('base64'),
          },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, out: stdout + stderr }),
      )
    })
    expect(run.code, run.out).toBe(0)
    expect(run.out).toMatch(/gone, deleted: 1/)
    expect(run.out).toMatch(/pushed again: +1/)
    const members = await admin.request(
      'GET',
      '/api/merchants/mch_default/members?mobile=13700137000',
    )
    const all = members.body.items.flatMap((m: any) => m.cards)
    expect(all.find((c: any) => c.alipayCardNo === gone.bizCardNo).status).toBe('deleted')
    await eventually(
      async () => Number((await onAlipay(drifted.bizCardNo)).point) === 4242,
      'the repaired card',
    )
  }, 60_000)

  it('reconciles from the admin API too, as a job with progress and the report; a viewer may not', async () => {
    const drifted = await claimed()
    await stack.kaguan.deps.db
      .updateTable('cards')
      .set({ point: 777 })
      .where('alipay_card_no', '=', drifted.bizCardNo)
      .execute()
    const viewer = await adminClient(stack, 'viewer', 'reconcile-viewer')
    expect((await viewer.request('POST', '/api/merchants/mch_default/reconcile', {})).status).toBe(
      403,
    )
    const started = await admin.request('POST', '/api/merchants/mch_default/reconcile', {})
    expect(started.status, started.text).toBe(202)
    let res = started
    await eventually(async () => {
      res = await admin.request('GET', `/api/merchants/mch_default/reconcile/${started.body.jobId}`)
      return res.body.status !== 'running'
    }, 'the reconcile job')
    expect(res.body).toMatchObject({ status: 'done' })
    expect(res.body.checked).toBe(res.body.total)
    res = { ...res, body: res.body.report }
    const card = (
      await stack.kaguan.deps.db
        .selectFrom('cards')
        .select('id')
        .where('alipay_card_no', '=', drifted.bizCardNo)
        .executeTakeFirstOrThrow()
    ).id
    expect(res.body.repushed).toContain(card)
    expect(res.body.failed).toEqual([])
    expect(res.body.checked).toBeGreaterThanOrEqual(1)
    await eventually(
      async () => Number((await onAlipay(drifted.bizCardNo)).point) === 777,
      'the repaired card',
    )
  }, 60_000)
})
