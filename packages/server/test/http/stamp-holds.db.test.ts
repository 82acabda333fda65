import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/deps.js'
import { ensureDefaultMerchant } from '../../src/modules/merchants/index.js'
import { applyLedger, type AccountRef, type LedgerMeta } from '../../src/modules/stamps/index.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import { fixedClock, testDeps } from '../helpers/deps.js'
import { startManagement, type ManagementApp } from '../helpers/management.js'

const M = 'mch_default'

/** A member and a published stamp activity, written as their modules store them. */
async function seedAccount(db: TestDb, deps: AppDeps, activityId: string): Promise<AccountRef> {
  const now = deps.clock.nowIso()
  const memberId = deps.ids.next('mbr')
  await db.db
    .insertInto('members')
    .values({
      id: memberId,
      merchant_id: M,
      alipay_user_id: `2088${memberId.slice(-12).padStart(12, '0')}`,
      biz_card_no: `KG${memberId}`,
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
  const exists = await db.db
    .selectFrom('stamp_activities')
    .select('id')
    .where('id', '=', activityId)
    .executeTakeFirst()
  if (!exists) {
    await db.db
      .insertInto('stamp_activities')
      .values({
        id: activityId,
        merchant_id: M,
        type: 'POINT_SEND',
        status: 'published',
        name: activityId,
        spec_json: '{}',
        stamp_activity_id: null,
        hold_ttl_seconds: 1800,
        alipay_camp_id: null,
        alipay_item_id: null,
        coupon_url: null,
        created_at: now,
        updated_at: now,
        published_at: now,
        ended_at: null,
      })
      .execute()
  }
  return { merchantId: M, memberId, activityId }
}

const meta = (key: string, source: LedgerMeta['source'] = 'admin'): LedgerMeta => ({
  idempotencyKey: key,
  reason: 'test',
  source,
  actor: 'test',
})

for (const dialect of DIALECTS) {
  describe(`${dialect}: exchanges in progress and the dashboard's stamps`, () => {
    let db: TestDb
    let deps: AppDeps
    let m: ManagementApp
    // 18:00 China time on 1 December; the checks run a day later.
    const clock = fixedClock('2026-12-01T10:00:00.000Z')
    const accounts: AccountRef[] = []
    const holds: string[] = []

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, { clock })
      await ensureDefaultMerchant(deps)
      // Before the 1-day window (1 Dec, China time): 50 deposited, 7 consumed.
      const early = await seedAccount(db, deps, 'sta_a')
      await applyLedger(deps, { type: 'DEPOSIT', account: early, amount: 50 }, meta('e1'))
      await applyLedger(deps, { type: 'CONSUME', account: early, amount: 7 }, meta('e2'))
      clock.advance(24 * 3600_000)
      // Three accounts of activity A, one of B; each gets 10 stamps and freezes 5, 4, 3, 2.
      for (const [i, activity] of ['sta_a', 'sta_a', 'sta_a', 'sta_b'].entries()) {
        clock.advance(1000)
        const account = await seedAccount(db, deps, activity)
        accounts.push(account)
        await applyLedger(deps, { type: 'DEPOSIT', account, amount: 10 }, meta(`d${i}`))
        const frozen = await applyLedger(
          deps,
          {
            type: 'FREEZE',
            account,
            amount: 5 - i,
            // The later frozen, the sooner it expires: the list orders by expiry, not by age.
            expiresAt: new Date(Date.parse('2026-12-02T11:00:00.000Z') - i * 60_000).toISOString(),
            exchangeActivityId: 'sta_x',
            outBizNo: `out_${i}`,
          },
          meta(`f${i}`, 'exchange'),
        )
        holds.push(frozen.hold!.id)
      }
      // The first exchange's coupon was claimed (COMMIT 5), the second's cancelled, one consumed.
      await applyLedger(
        deps,
        { type: 'COMMIT', merchantId: M, holdId: holds[0]! },
        meta('c0', 'exchange'),
      )
      await applyLedger(
        deps,
        { type: 'CANCEL', merchantId: M, holdId: holds[1]! },
        meta('x1', 'expiry'),
      )
      await applyLedger(deps, { type: 'CONSUME', account: accounts[3]!, amount: 1 }, meta('k3'))
      m = await startManagement(deps)
    }, 60_000)

    afterAll(async () => {
      await m?.close()
      await db?.close()
    })

    const url = (query: string) => `/api/merchants/${M}/stamp-holds${query}`

    it('lists the held exchanges, soonest to expire first, with member and activity', async () => {
      const res = await m.call('GET', url('?status=held'), 'viewer')
      expect(res.statusCode, res.body).toBe(200)
      const page = res.json()
      expect(page).toMatchObject({ total: 2, page: 1, pageSize: 20 })
      expect(page.items.map((h: { id: string }) => h.id)).toEqual([holds[3], holds[2]])
      expect(page.items[0]).toMatchObject({
        status: 'held',
        amount: 2,
        memberId: accounts[3]!.memberId,
        activityId: 'sta_b',
        exchangeActivityId: 'sta_x',
        outBizNo: 'out_3',
        expiresAt: '2026-12-02T10:57:00.000Z',
      })
    })

    it('filters by activity, member and status, and pages', async () => {
      const byActivity = (await m.call('GET', url('?activityId=sta_a'), 'viewer')).json()
      expect(byActivity.total).toBe(3)
      const byMember = (
        await m.call('GET', url(`?memberId=${accounts[0]!.memberId}`), 'viewer')
      ).json()
      expect(byMember.items).toHaveLength(1)
      expect(byMember.items[0]).toMatchObject({ id: holds[0], status: 'committed' })
      expect(byMember.items[0].resolvedAt).toBeTruthy()
      const second = (
        await m.call('GET', url('?pageSize=3&page=2&sort=createdAt&order=asc'), 'viewer')
      ).json()
      expect(second).toMatchObject({ total: 4, page: 2, pageSize: 3 })
      expect(second.items.map((h: { id: string }) => h.id)).toEqual([holds[3]])
    })

    it('refuses a bad filter naming the field, and another merchant sees nothing', async () => {
      const bad = await m.call('GET', url('?status=frozen'), 'viewer')
      expect(bad.statusCode).toBe(400)
      expect(bad.body).toContain('status')
      expect((await m.call('GET', url(''))).statusCode).toBe(401)
      const missing = await m.call('GET', '/api/merchants/mch_nope/stamp-holds', 'viewer')
      expect(missing.statusCode).toBe(404)
    })

    it('counts stamps issued and redeemed in the dashboard period, in SQL', async () => {
      const today = (await m.call('GET', `/api/dashboard?merchantId=${M}&days=1`, 'viewer')).json()
      // 4 × 10 deposited today; redeemed: COMMIT 5 + CONSUME 1 (a CANCEL or FREEZE spends nothing).
      expect(today).toMatchObject({ stampsIssued: 40, stampsRedeemed: 6 })
      const two = (await m.call('GET', `/api/dashboard?merchantId=${M}&days=2`, 'viewer')).json()
      expect(two).toMatchObject({ stampsIssued: 90, stampsRedeemed: 13 })
    })
  })
}
