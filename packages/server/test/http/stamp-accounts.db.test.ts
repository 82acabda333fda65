import type { Page, StampAccountView } from '@kaguan/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/deps.js'
import { DEFAULT_MERCHANT_ID, ensureDefaultMerchant } from '../../src/modules/merchants/index.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import { fixedClock, testDeps } from '../helpers/deps.js'
import { startManagement, type ManagementApp } from '../helpers/management.js'

const M = DEFAULT_MERCHANT_ID
const ACCOUNTS = 25
const url = `/api/merchants/${M}/stamp-accounts`

/** The stamp accounts list pages on the server like the other lists, filtered by activity or member. */
for (const dialect of DIALECTS) {
  describe(`${dialect}: stamp accounts, paged`, () => {
    let db: TestDb
    let deps: AppDeps
    let m: ManagementApp
    const clock = fixedClock('2026-12-02T08:00:00.000Z')
    const members: string[] = []

    async function activity(id: string): Promise<void> {
      const now = clock.nowIso()
      await db.db
        .insertInto('stamp_activities')
        .values({
          id,
          merchant_id: M,
          type: 'POINT_SEND',
          status: 'published',
          name: id,
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

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, { clock })
      await ensureDefaultMerchant({ db: db.db, clock })
      await activity('sta_a')
      await activity('sta_b')
      for (let i = 0; i < ACCOUNTS; i++) {
        clock.advance(60_000)
        const now = clock.nowIso()
        const memberId = `mbr_${String(i).padStart(3, '0')}`
        members.push(memberId)
        await db.db
          .insertInto('members')
          .values({
            id: memberId,
            merchant_id: M,
            alipay_user_id: `2088${String(100000000000 + i)}`,
            biz_card_no: `KG${i}`,
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
        const account = (activityId: string, available: number) => ({
          id: `sac_${activityId}_${String(i).padStart(3, '0')}`,
          merchant_id: M,
          member_id: memberId,
          activity_id: activityId,
          available,
          frozen: 0,
          earned: available,
          last_seq: 0,
          created_at: now,
          updated_at: now,
        })
        await db.db
          .insertInto('stamp_accounts')
          .values(
            i === 0 ? [account('sta_a', i % 7), account('sta_b', 1)] : [account('sta_a', i % 7)],
          )
          .execute()
      }
      m = await startManagement(deps)
    })
    afterAll(async () => {
      await m.close()
      await db.destroy()
    })

    const list = async (query: string, role: 'viewer' | 'admin' = 'viewer') => {
      const res = await m.call('GET', `${url}?${query}`, role)
      expect(res.statusCode, res.body).toBe(200)
      return res.json() as Page<StampAccountView>
    }

    it('pages an activity’s accounts, oldest first by default, with the total on every page', async () => {
      const first = await list('activityId=sta_a&pageSize=10')
      expect(first).toMatchObject({ total: ACCOUNTS, page: 1, pageSize: 10 })
      expect(first.items.map((a) => a.memberId)).toEqual(members.slice(0, 10))
      const last = await list('activityId=sta_a&pageSize=10&page=3')
      expect(last).toMatchObject({ total: ACCOUNTS, page: 3, pageSize: 10 })
      expect(last.items.map((a) => a.memberId)).toEqual(members.slice(20))
      const beyond = await list('activityId=sta_a&pageSize=10&page=4')
      expect(beyond.items).toEqual([])
      expect(beyond.total).toBe(ACCOUNTS)
      expect((await list('activityId=sta_a')).pageSize).toBe(20)
    })

    it('sorts by available stamps and filters by member', async () => {
      const most = await list('activityId=sta_a&sort=available&order=desc&pageSize=5')
      expect(most.items.map((a) => a.available)).toEqual([6, 6, 6, 5, 5])
      const byMember = await list(`memberId=${members[0]}`)
      expect(byMember.total).toBe(2)
      expect(byMember.items.map((a) => a.activityId).sort()).toEqual(['sta_a', 'sta_b'])
      expect((await list('')).total).toBe(ACCOUNTS + 1)
    })

    it('refuses a page size over the maximum, and a signed-out caller', async () => {
      expect((await m.call('GET', `${url}?pageSize=201`, 'viewer')).statusCode).toBe(400)
      expect((await m.call('GET', `${url}?page=0`, 'viewer')).statusCode).toBe(400)
      expect((await m.call('GET', url)).statusCode).toBe(401)
    })
  })
}
