import type { CampaignActivityCreate } from '@kaguan/alipay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { fixedClock, testDeps } from '../../../test/helpers/deps.js'
import type { AppDeps } from '../../deps.js'
import { ensureDefaultMerchant } from '../merchants/index.js'
import { listOutbox } from '../outbox/index.js'
import { createShop } from '../shops/index.js'
import {
  accountHistory,
  accountOf,
  adjustStamps,
  createActivity,
  earnForTrade,
  onCouponClaimed,
  publishActivity,
  refundTrade,
  startExchange,
  STAMPS_CARD_TOPIC,
  STAMPS_MIRROR_TOPIC,
  withCardPush,
  type StampsMirrorPayload,
  type PublishPorts,
  type VoucherProvider,
} from './index.js'

const M = 'mch_default'
const actor = { actor: 'test' }

async function rejection(p: Promise<unknown>) {
  try {
    await p
  } catch (error) {
    return error as { code?: string; details?: { fields?: { field: string }[] } }
  }
  throw new Error('expected a rejection')
}

/** Koubei stand-in: remembers what it was sent, answers like the emulator. */
function fakeKoubei() {
  const sent: CampaignActivityCreate[] = []
  const claims: { alipayUserId: string; outBizNo: string }[] = []
  let refuse = false
  const vouchers: VoucherProvider = {
    publishExchange: async (input) => {
      sent.push({ out_biz_no: input.activityId } as CampaignActivityCreate)
      return {
        campId: 'C-EX',
        itemId: 'ITEM1',
        couponUrl: 'https://render.example/p/z/pointset/index.html?itemId=ITEM1',
      }
    },
    claimUrl: async ({ published, alipayUserId, outBizNo }) => {
      if (refuse) {
        throw new Error('refused')
      }
      claims.push({ alipayUserId, outBizNo })
      return `${published.couponUrl}&token=T&outBizNo=${outBizNo}&buyerId=${alipayUserId}&type=pointcard`
    },
  }
  const ports: PublishPorts = {
    vouchers,
    createPointCampaign: async (biz) => {
      sent.push(biz)
      return { campId: 'C-PT' }
    },
    notifyUrl: 'https://mini.example/alipay/koubei/notify',
  }
  return { ports, vouchers, sent, claims, refuse: (v: boolean) => (refuse = v) }
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: stamp activities, earning and exchange`, () => {
    let db: TestDb
    let deps: AppDeps
    const clock = fixedClock('2026-12-02T02:00:00.000Z')
    const koubei = fakeKoubei()
    let shopId: string
    let bareShopId: string
    let memberId: string
    const userId = '2088000000000777'

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, { clock })
      await ensureDefaultMerchant({ db: db.db, clock })
      shopId = (
        await createShop(
          deps,
          M,
          { name: 'A', address: 'x', latitude: 30, longitude: 120, alipayShopId: 'KB-SHOP-1' },
          actor,
        )
      ).id
      bareShopId = (
        await createShop(deps, M, { name: 'B', address: 'y', latitude: 30, longitude: 120 }, actor)
      ).id
      memberId = deps.ids.next('mbr')
      const now = clock.nowIso()
      await db.db
        .insertInto('members')
        .values({
          id: memberId,
          merchant_id: M,
          alipay_user_id: userId,
          biz_card_no: 'KG1',
          source: 'kaguan',
          status: 'active',
          name_enc: null,
          mobile_enc: null,
          mobile_hash: null,
          cert_no_enc: null,
          cert_no_hash: null,
          gender: null,
          birthday: null,
          created_at: now,
          updated_at: now,
        })
        .execute()
    })
    afterAll(async () => {
      await db.destroy()
    })

    const stampSpec = () => ({
      name: '集点活动',
      startTime: '2026-12-01T00:00:00+08:00',
      endTime: '2027-01-01T00:00:00+08:00',
      shopIds: [shopId],
      card: { name: '集点卡', description: '满5点换5元券' },
      rule: { minAmount: '10', maxPerDay: 6 },
      stampsToComplete: 5,
    })

    let stampId: string
    let exchangeId: string

    it('refuses bad activity input with 400 naming every field, nothing sent to Koubei', async () => {
      const bad = await rejection(
        createActivity(
          deps,
          M,
          {
            type: 'POINT_SEND',
            spec: { ...stampSpec(), card: { description: 'x' }, stampsToComplete: 0 },
          },
          actor,
        ),
      )
      expect(bad.code).toBe('STAMPS_INVALID')
      const fields = bad.details!.fields!.map((f) => f.field)
      expect(fields).toContain('spec.card.name')
      expect(fields).toContain('spec.stampsToComplete')
      const crossField = await rejection(
        createActivity(
          deps,
          M,
          {
            type: 'POINT_SEND',
            spec: {
              ...stampSpec(),
              endTime: '2026-11-01T00:00:00+08:00',
              shopIds: [shopId, 'shop_nope'],
              rule: { shopIds: [bareShopId] },
            },
          },
          actor,
        ),
      )
      expect(crossField.details!.fields!.map((f) => f.field)).toEqual([
        'spec.endTime',
        'spec.shopIds.1',
        'spec.rule.shopIds.0',
      ])
      expect(koubei.sent).toHaveLength(0)
    })

    it('a shop without its Alipay shop id stops the publish before Koubei is called', async () => {
      const draft = await createActivity(
        deps,
        M,
        { type: 'POINT_SEND', spec: { ...stampSpec(), shopIds: [bareShopId] } },
        actor,
      )
      const refused = await rejection(publishActivity(deps, M, draft.id, actor, koubei.ports))
      expect(refused.details!.fields![0]!.field).toBe('spec.shopIds.0')
      expect(koubei.sent).toHaveLength(0)
    })

    it('publishes the stamp activity and the exchange to Koubei', async () => {
      const draft = await createActivity(deps, M, { type: 'POINT_SEND', spec: stampSpec() }, actor)
      expect(draft.status).toBe('draft')
      const published = await publishActivity(deps, M, draft.id, actor, koubei.ports)
      stampId = published.id
      expect(published).toMatchObject({ status: 'published', koubei: { campId: 'C-PT' } })
      expect(koubei.sent[0]).toMatchObject({
        out_biz_no: draft.id,
        type: 'POINT_SEND',
        start_time: '2026-12-01 00:00:00',
        constraint_info: { suit_shops: ['KB-SHOP-1'] },
        promo_tools: [{ point_card: { type: 'POINT_CARD', name: '集点卡' } }],
      })
      const twice = await rejection(publishActivity(deps, M, draft.id, actor, koubei.ports))
      expect(twice.code).toBe('STAMPS_ACTIVITY_STATE')

      const exchange = await createActivity(
        deps,
        M,
        {
          type: 'DIRECT_SEND',
          spec: {
            name: '5点换5元',
            startTime: '2026-12-01T00:00:00+08:00',
            endTime: '2027-01-01T00:00:00+08:00',
            shopIds: [shopId],
            stampActivityId: stampId,
            stampsPerVoucher: 5,
            holdTtlMinutes: 10,
            voucher: {
              type: 'MONEY',
              name: '5元券',
              worth: '5',
              minConsume: '20',
              validity: { type: 'RELATIVE', days: 30 },
            },
            budget: 100,
            allowRepeatSend: true,
          },
        },
        actor,
      )
      expect(exchange.holdTtlSeconds).toBe(600)
      const ex = await publishActivity(deps, M, exchange.id, actor, koubei.ports)
      exchangeId = ex.id
      expect(ex.koubei).toEqual({
        campId: 'C-EX',
        itemId: 'ITEM1',
        couponUrl: expect.stringContaining('itemId=ITEM1'),
      })
    })

    it('earns one stamp per qualifying trade, once per trade number, and queues the card column', async () => {
      const trade = (n: number, amount = '12.00') =>
        earnForTrade(
          deps,
          {
            merchantId: M,
            tradeNo: `T${n}`,
            amount,
            alipayUserId: userId,
            alipayShopId: 'KB-SHOP-1',
            source: 'trade',
            actor: 'alipay',
          },
          withCardPush(deps),
        )
      expect(await trade(0, '9.99')).toEqual([])
      for (let i = 1; i <= 5; i++) {
        const [earned] = await trade(i)
        expect(earned).toMatchObject({ stamps: 1, available: i, replayed: false })
      }
      const [again] = await trade(3)
      expect(again).toMatchObject({ stamps: 1, available: 3, replayed: true })
      const account = await accountOf(deps, { merchantId: M, memberId, activityId: stampId })
      expect(account).toMatchObject({ available: 5, frozen: 0, earned: 5 })
      const pushes = (await listOutbox(db, { topic: STAMPS_CARD_TOPIC })).filter(
        (o) => o.topic === STAMPS_CARD_TOPIC,
      )
      // Collapsed: one pending push for the member, however many stamps.
      expect(pushes.filter((o) => o.status === 'pending')).toHaveLength(1)
    })

    it('the daily cap holds', async () => {
      const [sixth] = await earnForTrade(deps, {
        merchantId: M,
        tradeNo: 'T6',
        amount: '50',
        alipayUserId: userId,
        alipayShopId: 'KB-SHOP-1',
        source: 'till',
        actor: 'till',
      })
      expect(sixth?.stamps).toBe(1)
      expect(
        await earnForTrade(deps, {
          merchantId: M,
          tradeNo: 'T7',
          amount: '50',
          alipayUserId: userId,
          alipayShopId: 'KB-SHOP-1',
          source: 'till',
          actor: 'till',
        }),
      ).toEqual([])
      await adjustStamps(
        deps,
        {
          merchantId: M,
          memberId,
          activityId: stampId,
          delta: -1,
          reason: 'cap test',
          idempotencyKey: 'cap',
        },
        actor,
      )
    })

    it('exchange: freeze, coupon page, claim notice commits once', async () => {
      const started = await startExchange(
        deps,
        { merchantId: M, exchangeActivityId: exchangeId, alipayUserId: userId },
        { vouchers: koubei.vouchers },
      )
      expect(started.url).toContain('type=pointcard')
      expect(started.hold).toMatchObject({ amount: 5, status: 'held' })
      expect(started.hold.expiresAt).toBe(new Date(clock.now().getTime() + 600_000).toISOString())
      expect(await accountOf(deps, { merchantId: M, memberId, activityId: stampId })).toMatchObject(
        { available: 0, frozen: 5 },
      )
      const outBizNo = started.hold.outBizNo!
      expect(koubei.claims.at(-1)).toEqual({ alipayUserId: userId, outBizNo })
      const notice = { notifyId: 'N1', isvOutBizId: outBizNo, buyerId: userId }
      expect(await onCouponClaimed(deps, M, notice)).toBe('committed')
      expect(await onCouponClaimed(deps, M, notice)).toBe('duplicate')
      // Alipay's retry under a new notify id still commits nothing twice.
      expect(await onCouponClaimed(deps, M, { ...notice, notifyId: 'N2' })).toBe('committed')
      expect(await accountOf(deps, { merchantId: M, memberId, activityId: stampId })).toMatchObject(
        { available: 0, frozen: 0, total: 0 },
      )
      const none = await rejection(
        startExchange(
          deps,
          { merchantId: M, exchangeActivityId: exchangeId, alipayUserId: userId },
          { vouchers: koubei.vouchers },
        ),
      )
      expect(none.code).toBe('STAMPS_INSUFFICIENT')
    })

    it('a refused claim token gives the stamps back at once', async () => {
      await adjustStamps(
        deps,
        {
          merchantId: M,
          memberId,
          activityId: stampId,
          delta: 5,
          reason: 'goodwill',
          idempotencyKey: 'g1',
        },
        actor,
      )
      koubei.refuse(true)
      await rejection(
        startExchange(
          deps,
          { merchantId: M, exchangeActivityId: exchangeId, alipayUserId: userId },
          { vouchers: koubei.vouchers },
        ),
      )
      koubei.refuse(false)
      expect(await accountOf(deps, { merchantId: M, memberId, activityId: stampId })).toMatchObject(
        { available: 5, frozen: 0 },
      )
    })

    it('a refund takes back the stamps of its trade, never below zero, recording the shortfall', async () => {
      await adjustStamps(
        deps,
        {
          merchantId: M,
          memberId,
          activityId: stampId,
          delta: -5,
          reason: 'reset',
          idempotencyKey: 'r0',
        },
        actor,
      )
      await adjustStamps(
        deps,
        {
          merchantId: M,
          memberId,
          activityId: stampId,
          delta: 0 + 1,
          reason: 'one',
          idempotencyKey: 'r1',
        },
        actor,
      )
      const [back] = await refundTrade(deps, { merchantId: M, tradeNo: 'T2', actor: 'alipay' })
      expect(back).toMatchObject({ taken: 1, shortfall: 0 })
      const [again] = await refundTrade(deps, { merchantId: M, tradeNo: 'T2', actor: 'alipay' })
      expect(again?.replayed).toBe(true)
      const [short] = await refundTrade(deps, { merchantId: M, tradeNo: 'T4', actor: 'alipay' })
      expect(short).toMatchObject({ taken: 0, shortfall: 1 })
      expect(
        (await accountOf(deps, { merchantId: M, memberId, activityId: stampId })).available,
      ).toBe(0)
      const audit = await db.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'stamps.adjust')
        .execute()
      expect(audit.length).toBeGreaterThanOrEqual(4)
    })

    it('queues the Koubei mirror of every entry that moved stamps, ordered by account', async () => {
      const account = await accountOf(deps, { merchantId: M, memberId, activityId: stampId })
      const { entries } = await accountHistory(deps, M, account.id)
      const mirrors = (await listOutbox(db, { topic: STAMPS_MIRROR_TOPIC, limit: 1000 })).map(
        (o) => o.payload as StampsMirrorPayload,
      )
      const moved = entries.filter((e) => e.amount > 0)
      // The take-back that found no stamps (all shortfall) moved nothing: nothing to mirror.
      expect(entries.filter((e) => e.amount === 0)).toHaveLength(1)
      expect(mirrors.map((m) => m.entryId).sort()).toEqual(moved.map((e) => e.id).sort())
      expect(new Set(mirrors.map((m) => m.accountId))).toEqual(new Set([account.id]))
      const orderKeys = await db.db
        .selectFrom('outbox')
        .select('order_key')
        .where('topic', '=', STAMPS_MIRROR_TOPIC)
        .distinct()
        .execute()
      expect(orderKeys).toEqual([{ order_key: account.id }])
    })
  })
}
