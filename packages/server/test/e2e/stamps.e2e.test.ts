import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { generateKeyPair, signParams, withReplayGuard } from '@kaguan/crm-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listOutbox } from '../../src/modules/outbox/index.js'
import {
  cancelExpiredHolds,
  expireDueStamps,
  reconcileStamps,
  STAMPS_MIRROR_TOPIC,
  stampsOutboxHandlers,
  withCardPush,
} from '../../src/modules/stamps/index.js'
import { fixedClock } from '../helpers/deps.js'
import {
  adminClient,
  cardSpec,
  configureMerchant,
  emulatorJson,
  eventually,
  publishCard,
  startStack,
  type AdminClient,
  type EmulatorCard,
  type Stack,
} from '../helpers/kaguan.js'

const root = new URL('../../../../', import.meta.url).pathname

type Notification = { id: string; kind: string; params: Record<string, string>; status: string }

/** Point collection end to end through the emulator (issue 10's acceptance). */
describe('stamps: earn by paying, exchange for a coupon, on the card', () => {
  let stack: Stack
  let admin: AdminClient
  let userId: string
  let stampId: string
  let exchangeId: string
  let templateId: string
  const SHOP = 'KB-SHOP-0001'

  const card = async () =>
    (
      await emulatorJson<(EmulatorCard & { frontTextList: { label: string; value: string }[] })[]>(
        stack.emulator,
        'GET',
        `/__emulator/cards?userId=${userId}`,
      )
    )[0]!
  const column = async () => (await card()).frontTextList.find((t) => t.label === '集点')?.value
  const cardShows = (value: string) =>
    eventually(async () => (await column()) === value, `the card to show 集点 ${value}`)
  const account = async () => {
    const r = await admin.request(
      'GET',
      `/api/merchants/mch_default/stamp-accounts?activityId=${stampId}`,
    )
    return r.body.items[0] as { id: string; available: number; frozen: number; total: number }
  }
  const notifications = (kind: string) =>
    emulatorJson<Notification[]>(stack.emulator, 'GET', `/__emulator/notifications?kind=${kind}`)
  const resend = (url: string, params: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    }).then((r) => r.text())
  const gateway = () => `${stack.kaguan.urls.mini}/alipay/gateway`

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    const images = await configureMerchant(stack, admin)
    const published = await publishCard(admin, cardSpec(images))
    templateId = published.alipayTemplateId
    await emulatorJson(stack.emulator, 'POST', '/__emulator/shops', {
      shopId: SHOP,
      name: '西湖店',
    })
    const shop = await admin.request('POST', '/api/merchants/mch_default/shops', {
      name: '西湖店',
      address: '杭州',
      latitude: 30.27,
      longitude: 120.15,
      alipayShopId: SHOP,
    })
    expect(shop.status).toBe(201)
    const user = await emulatorJson<{ userId: string }>(
      stack.emulator,
      'POST',
      '/__emulator/users',
      {
        name: '王五',
        mobile: '13700137000',
      },
    )
    userId = user.userId
    const claim = await emulatorJson<{ status: number; body: string }>(
      stack.emulator,
      'POST',
      '/__emulator/claim',
      {
        userId,
        applyCardUrl: published.claimUrl,
        form: { OPEN_FORM_FIELD_MOBILE: '13700137000', OPEN_FORM_FIELD_NAME: '王五' },
      },
    )
    expect(claim.status).toBe(200)

    const stamp = await admin.request('POST', '/api/merchants/mch_default/stamp-activities', {
      type: 'POINT_SEND',
      spec: {
        name: '集5点送5元',
        startTime: '2026-01-01T00:00:00+08:00',
        endTime: '2030-01-01T00:00:00+08:00',
        shopIds: [shop.body.id],
        card: { name: '集点卡', description: '满5点换5元券', logoImageId: images.logoId },
        rule: { minAmount: '10' },
        stampsToComplete: 5,
      },
    })
    expect(stamp.status).toBe(201)
    stampId = stamp.body.id
    const exchange = await admin.request('POST', '/api/merchants/mch_default/stamp-activities', {
      type: 'DIRECT_SEND',
      spec: {
        name: '5点换5元券',
        startTime: '2026-01-01T00:00:00+08:00',
        endTime: '2030-01-01T00:00:00+08:00',
        shopIds: [shop.body.id],
        stampActivityId: stampId,
        stampsPerVoucher: 5,
        holdTtlMinutes: 1,
        voucher: {
          type: 'MONEY',
          name: '5元代金券',
          worth: '5',
          minConsume: '20',
          validity: { type: 'RELATIVE', days: 30 },
        },
        budget: 100,
        allowRepeatSend: true,
      },
    })
    expect(exchange.status).toBe(201)
    exchangeId = exchange.body.id
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('answers bad activity input 400 naming the field', async () => {
    const bad = await admin.request('POST', '/api/merchants/mch_default/stamp-activities', {
      type: 'POINT_SEND',
      spec: { name: '', shopIds: [] },
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errcode).toBe('STAMPS_INVALID')
    const fields = (bad.body.details.fields as { field: string }[]).map((f) => f.field)
    expect(fields).toEqual(
      expect.arrayContaining(['spec.name', 'spec.shopIds', 'spec.stampsToComplete']),
    )
  })

  it('a viewer reads activities but may not publish or adjust', async () => {
    const viewer = await adminClient(stack, 'viewer')
    expect(
      (await viewer.request('GET', '/api/merchants/mch_default/stamp-activities')).status,
    ).toBe(200)
    const publish = await viewer.request(
      'POST',
      `/api/merchants/mch_default/stamp-activities/${stampId}/publish`,
    )
    expect(publish.status).toBe(403)
    const adjust = await viewer.request(
      'POST',
      `/api/merchants/mch_default/stamp-activities/${stampId}/adjustments`,
      {
        memberId: 'mbr_x',
        delta: 1,
        reason: 'x',
        idempotencyKey: 'x',
      },
    )
    expect(adjust.status).toBe(403)
    const docs = await admin.request('GET', '/api/docs/json')
    expect(Object.keys(docs.body.paths)).toContain(
      '/api/merchants/{merchantId}/stamp-activities/{activityId}/publish',
    )
  })

  it('publishes both activities to Koubei', async () => {
    const s = await admin.request(
      'POST',
      `/api/merchants/mch_default/stamp-activities/${stampId}/publish`,
    )
    expect(s.status).toBe(200)
    expect(s.body.koubei.campId).toMatch(/^\d+$/)
    const e = await admin.request(
      'POST',
      `/api/merchants/mch_default/stamp-activities/${exchangeId}/publish`,
    )
    expect(e.status).toBe(200)
    expect(e.body.koubei.couponUrl).toContain('/p/z/pointset/index.html?itemId=')
  })

  it('five payments at the shop fill the card: 5/5; a duplicated notification changes nothing', async () => {
    for (let i = 0; i < 5; i++) {
      await emulatorJson(stack.emulator, 'POST', '/__emulator/pay', {
        userId,
        appId: stack.appId,
        amount: '12.50',
        shopId: SHOP,
      })
    }
    await cardShows('5/5')
    // As the member sees it: the wallet's card page prints the front text on the card face.
    const page = await fetch(`${stack.emulator.url}/wallet/cards/${(await card()).bizCardNo}`, {
      headers: { cookie: `emu_uid=${userId}` },
    })
    expect(await page.text()).toMatch(/data-front-label="集点">集点 5\/5</)
    const [first] = (await notifications('trade')).filter((n) => n.status === 'delivered')
    expect(await resend(gateway(), first!.params)).toBe('success')
    // The same notify_id again (Alipay's retry): deduplicated, no stamp more.
    expect(await account()).toMatchObject({ available: 5, frozen: 0 })
    // A small trade earns nothing.
    await emulatorJson(stack.emulator, 'POST', '/__emulator/pay', {
      userId,
      appId: stack.appId,
      amount: '9.00',
      shopId: SHOP,
    })
    await eventually(
      async () => (await notifications('trade')).every((n) => n.status === 'delivered'),
      'trade notices',
    )
    expect((await account()).available).toBe(5)
  })

  it('refuses a forged trade notification', async () => {
    const [n] = await notifications('trade')
    const forged = { ...n!.params, trade_no: '2099FORGED', total_amount: '999.00' }
    expect(await resend(gateway(), forged)).toBe('fail')
    expect((await account()).available).toBe(5)
  })

  it('exchange: freeze → coupon page → claimed → committed; the card shows 0/5', async () => {
    const { authCode } = await emulatorJson<{ authCode: string }>(
      stack.emulator,
      'POST',
      '/__emulator/auth-codes',
      { appId: stack.appId, userId },
    )
    const res = await fetch(
      `${stack.kaguan.urls.mini}/stamps/exchange/${exchangeId}?auth_code=${authCode}`,
      { redirect: 'manual' },
    )
    expect(res.status).toBe(302)
    const url = new URL(res.headers.get('location')!)
    expect(url.pathname).toBe('/p/z/pointset/index.html')
    for (const p of ['itemId', 'token', 'outBizNo', 'buyerId']) {
      expect(url.searchParams.get(p)).toBeTruthy()
    }
    expect(url.searchParams.get('type')).toBe('pointcard')
    expect(url.searchParams.get('buyerId')).toBe(userId)
    expect(await account()).toMatchObject({ available: 0, frozen: 5 })
    // The coupon page renders in the emulator.
    const page = await fetch(url)
    expect(page.status).toBe(200)
    await emulatorJson(stack.emulator, 'POST', '/__emulator/coupons/claim', {
      url: url.toString(),
      userId,
    })
    await eventually(async () => (await account()).frozen === 0 || undefined, 'the commit')
    expect(await account()).toMatchObject({ available: 0, frozen: 0, total: 0 })
    await cardShows('0/5')

    const [notice] = await notifications('coupon_received')
    expect(notice!.status).toBe('delivered')
    const before = await admin.request(
      'GET',
      `/api/merchants/mch_default/stamp-accounts/${(await account()).id}`,
    )
    expect(await resend(`${stack.kaguan.urls.mini}/alipay/koubei/notify`, notice!.params)).toBe(
      'success',
    )
    const after = await admin.request(
      'GET',
      `/api/merchants/mch_default/stamp-accounts/${(await account()).id}`,
    )
    expect(after.body.entries).toHaveLength(before.body.entries.length)
    expect(after.body.entries.map((e: { type: string }) => e.type)).toEqual([
      'DEPOSIT',
      'DEPOSIT',
      'DEPOSIT',
      'DEPOSIT',
      'DEPOSIT',
      'FREEZE',
      'COMMIT',
    ])
  })

  it('the card’s action point: the exchange link goes through Alipay’s authorization; left unclaimed it is cancelled after its TTL', async () => {
    const adj = await admin.request(
      'POST',
      `/api/merchants/mch_default/stamp-activities/${stampId}/adjustments`,
      {
        memberId:
          (await card()) &&
          (await admin.request('GET', '/api/merchants/mch_default/stamp-accounts')).body.items[0]
            .memberId,
        delta: 5,
        reason: '补点',
        idempotencyKey: 'goodwill-1',
      },
    )
    expect(adj.status).toBe(200)
    // The link the merchant puts on the card (a URL action point) or in a QR code.
    const link = await admin.request(
      'GET',
      `/api/merchants/mch_default/stamp-activities/${exchangeId}/exchange-link?shopId=${SHOP}`,
    )
    expect(link.status).toBe(200)
    expect(link.body.url).toBe(
      `${stack.kaguan.urls.mini}/stamps/exchange/${exchangeId}?shopId=${SHOP}`,
    )
    // Opened in the wallet: kaguan → Alipay's web authorization (silent, auth_base) → back with
    // an auth code → the coupon page.
    const toAlipay = await fetch(link.body.url, { redirect: 'manual' })
    expect(toAlipay.status).toBe(302)
    const authorize = new URL(toAlipay.headers.get('location')!)
    expect(authorize.pathname).toBe('/oauth2/publicAppAuthorize.htm')
    expect(authorize.searchParams.get('scope')).toBe('auth_base')
    const back = await fetch(authorize, {
      redirect: 'manual',
      headers: { cookie: `emu_uid=${userId}` },
    })
    expect(back.status).toBe(302)
    const withCode = new URL(back.headers.get('location')!)
    expect(withCode.searchParams.get('auth_code')).toBeTruthy()
    expect(withCode.searchParams.get('shopId')).toBe(SHOP)
    const res = await fetch(withCode, { redirect: 'manual' })
    expect(res.status).toBe(302)
    const coupon = new URL(res.headers.get('location')!)
    expect(coupon.pathname).toBe('/p/z/pointset/index.html')
    expect(coupon.searchParams.get('shopId')).toBe(SHOP)
    expect(await account()).toMatchObject({ available: 0, frozen: 5 })
    // The 1-minute TTL passes: moved back in the data rather than the clock, so what the CANCEL
    // queues (the card push, the Koubei mirror) is due now for the stack's real-time worker.
    const deps = stack.kaguan.deps
    const hold = await deps.db
      .updateTable('stamp_holds')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('status', '=', 'held')
      .returningAll()
      .executeTakeFirstOrThrow()
    expect(new Date(hold.expires_at).getTime()).toBeLessThan(
      new Date(hold.created_at).getTime() + 61_000,
    )
    expect(await cancelExpiredHolds(deps, 100, withCardPush(deps))).toBe(1)
    expect(await account()).toMatchObject({ available: 5, frozen: 0 })
    await cardShows('5/5')
  })

  it('a refund takes its stamps back', async () => {
    const [trade] = (await notifications('trade')).filter((n) => n.params.total_amount === '12.50')
    await emulatorJson(stack.emulator, 'POST', '/__emulator/refund', {
      tradeNo: trade!.params.trade_no,
    })
    await eventually(async () => (await account()).available === 4 || undefined, 'the take-back')
    await cardShows('4/5')
  })

  it('the till earns through the signed core API, once per trade number, and queries the account', async () => {
    const keys = generateKeyPair()
    const set = await admin.request('PUT', '/api/merchants/mch_default/crm', {
      mode: 'none',
      publicKey: keys.publicKey,
    })
    expect(set.status).toBeLessThan(300)
    const call = async (path: string, params: Record<string, string>, key = keys.privateKey) => {
      const guarded = withReplayGuard(params)
      const res = await fetch(`${stack.kaguan.urls.core}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...guarded, sign: signParams(guarded, key) }),
      })
      return (await res.json()) as Record<string, any>
    }
    const before = (await account()).available
    const earn = {
      templateId,
      tradeNo: 'TILL-0001',
      amount: '30.00',
      alipayUserId: userId,
      alipayShopId: SHOP,
    }
    const first = await call('/stamps/earn', earn)
    expect(first).toMatchObject({ status: 'OK' })
    expect(first.earned[0]).toMatchObject({ stamps: 1, replayed: false })
    const again = await call('/stamps/earn', earn)
    expect(again.earned[0]).toMatchObject({ stamps: 1, replayed: true })
    const forged = await call(
      '/stamps/earn',
      { ...earn, tradeNo: 'TILL-0002' },
      generateKeyPair().privateKey,
    )
    expect(forged.status).toBe('FAIL')
    const bad = await call('/stamps/earn', { ...earn, tradeNo: 'TILL-0003', amount: 'lots' })
    expect(bad).toMatchObject({ status: 'FAIL', errcode: 'REQUEST_INVALID' })
    const query = await call('/stamps/query', {
      templateId,
      alipayUserId: userId,
      activityId: stampId,
    })
    expect(query.accounts[0]).toMatchObject({ available: before + 1 })
  })

  it('mirrors every ledger change to Koubei once, in order; reconcile reports a drift made there', async () => {
    const deps = stack.kaguan.deps
    const undelivered = async () =>
      (await listOutbox(deps, { topic: STAMPS_MIRROR_TOPIC })).filter((o) => o.status !== 'done')
    await eventually(async () => (await undelivered()).length === 0 || undefined, 'the mirror')
    const activity = await admin.request(
      'GET',
      `/api/merchants/mch_default/stamp-activities/${stampId}`,
    )
    const campId = activity.body.koubei.campId as string
    type Koubei = {
      total: number
      available: number
      frozen: number
      entries: { reqId: string; transType: string; amount: number }[]
    }
    const koubei = () =>
      emulatorJson<Koubei>(
        stack.emulator,
        'GET',
        `/__emulator/points?activityAccount=${campId}&userId=${userId}`,
      )
    const mine = await account()
    const history = await admin.request(
      'GET',
      `/api/merchants/mch_default/stamp-accounts/${mine.id}`,
    )
    const entries = (
      history.body.entries as { id: string; idempotencyKey: string; type: string; amount: number }[]
    ).filter((e) => e.amount > 0)
    const there = await koubei()
    // Each entry once, under its own idempotency key, in ledger order.
    expect(there.entries.map((e) => [e.reqId, e.transType, e.amount])).toEqual(
      entries.map((e) => [e.idempotencyKey, e.type, e.amount]),
    )
    expect(there).toMatchObject({
      total: (history.body.account as { earned: number }).earned,
      available: mine.available,
      frozen: mine.frozen,
    })
    // A redelivery (the worker lost the answer) collapses by req_id on Koubei's side.
    const mirror = stampsOutboxHandlers(deps)[STAMPS_MIRROR_TOPIC]!
    for (const e of entries.slice(0, 3)) {
      await mirror({
        id: 'obx_again',
        merchantId: 'mch_default',
        topic: STAMPS_MIRROR_TOPIC,
        payload: { entryId: e.id, accountId: mine.id },
        attempt: 2,
      })
    }
    expect((await koubei()).entries).toHaveLength(entries.length)

    const clean = await reconcileStamps(deps, 'mch_default')
    expect(clean).toMatchObject({ drift: [], failed: [], inFlight: 0 })
    expect(clean.inStep).toBeGreaterThanOrEqual(1)

    await emulatorJson(stack.emulator, 'POST', '/__emulator/points', {
      activityAccount: campId,
      userId,
      transType: 'DEPOSIT',
      amount: 2,
    })
    const drifted = await reconcileStamps(deps, 'mch_default')
    expect(drifted.drift).toEqual([
      {
        accountId: mine.id,
        memberId: expect.any(String),
        activityId: stampId,
        kaguan: { total: there.total, available: mine.available, frozen: mine.frozen },
        koubei: { total: there.total + 2, available: mine.available + 2, frozen: mine.frozen },
      },
    ])
    // kaguan's ledger is the truth: nothing changed here.
    expect(await account()).toMatchObject({ available: mine.available, frozen: mine.frozen })

    // The command an operator runs says the same, and fails.
    const config = deps.config
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
    expect(run.code, run.out).toBe(1)
    expect(run.out).toMatch(/drift: +1/)
    expect(run.out).toContain(
      `${mine.id} (member ${drifted.drift[0]!.memberId}, activity ${stampId}): kaguan total/available/frozen ${there.total}/${mine.available}/${mine.frozen}, Koubei ${there.total + 2}/${mine.available + 2}/${mine.frozen}`,
    )
  }, 60_000)

  // Last: publishing another stamp activity moves the card column to it.
  it('stamps that expire are reminded of on the card (POINT_REMIND) once, then expire', async () => {
    const shops = await admin.request('GET', '/api/merchants/mch_default/shops')
    const ends = new Date(Date.now() + 2 * 86_400_000)
    const created = await admin.request('POST', '/api/merchants/mch_default/stamp-activities', {
      type: 'POINT_SEND',
      spec: {
        name: '年末集点',
        startTime: '2026-01-01T00:00:00+08:00',
        endTime: ends.toISOString(),
        shopIds: [shops.body.items[0].id],
        card: { name: '年末集点卡', description: '活动结束即过期' },
        rule: {},
        stampsToComplete: 5,
        expiry: { type: 'ACTIVITY_END' },
      },
    })
    expect(created.status).toBe(201)
    const id = created.body.id as string
    expect(
      (await admin.request('POST', `/api/merchants/mch_default/stamp-activities/${id}/publish`))
        .status,
    ).toBe(200)
    const { memberId } = (await account()) as unknown as { memberId: string }
    const adj = await admin.request(
      'POST',
      `/api/merchants/mch_default/stamp-activities/${id}/adjustments`,
      { memberId, delta: 3, reason: '补点', idempotencyKey: 'expiring-1' },
    )
    expect(adj.status).toBe(200)
    await cardShows('3/5')
    // The worker's sweep finds the end within the 3-day window and sends the reminder once.
    type Message = { notifyNo: string; expiredPoint: string; expiredTime: string }
    const messages = async () => ((await card()) as unknown as { messages: Message[] }).messages
    await eventually(async () => (await messages()).length > 0 || undefined, 'the reminder')
    const [message] = await messages()
    expect(message).toMatchObject({ expiredPoint: '3' })
    expect(new Date(`${message!.expiredTime.replace(' ', 'T')}+08:00`).getTime()).toBe(
      Math.floor(ends.getTime() / 1000) * 1000,
    )
    const calls = await emulatorJson<unknown[]>(
      stack.emulator,
      'GET',
      '/__emulator/calls?method=alipay.marketing.card.message.notify',
    )
    expect(calls).toHaveLength(1)

    // Past the end: the worker's step expires them and the card shows it.
    const deps = stack.kaguan.deps
    const later = fixedClock(new Date(ends.getTime() + 1000))
    expect(await expireDueStamps({ ...deps, clock: later }, withCardPush(deps))).toBe(3)
    await cardShows('0/5')
    expect(await messages()).toHaveLength(1)
  })
})
