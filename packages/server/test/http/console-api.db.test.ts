import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/deps.js'
import { recordAudit } from '../../src/modules/audit/index.js'
import type { CardsTable } from '../../src/modules/cards/index.js'
import { activateMember, reserveMember } from '../../src/modules/members/index.js'
import {
  createMerchant,
  DEFAULT_MERCHANT_ID,
  ensureDefaultMerchant,
} from '../../src/modules/merchants/index.js'
import { enqueue } from '../../src/modules/outbox/index.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import { fixedClock, testDeps } from '../helpers/deps.js'
import { startManagement, type ManagementApp } from '../helpers/management.js'

const M = DEFAULT_MERCHANT_ID
const MEMBERS = 25
const mobileOf = (i: number) => `1380013${String(8000 + i).padStart(4, '0')}`
const userOf = (i: number) => `2088${String(100000000000 + i)}`

for (const dialect of DIALECTS) {
  describe(`${dialect}: the console's list, dashboard and audit endpoints`, () => {
    let db: TestDb
    let deps: AppDeps
    let m: ManagementApp
    let otherMerchant: string
    // 18:00 China time on 2 December.
    const clock = fixedClock('2026-12-02T10:00:00.000Z')
    const cardIds: string[] = []

    async function insertCard(i: number, memberId: string, createdAt: string, active = true) {
      const id = `crd_${String(i).padStart(3, '0')}`
      const row: CardsTable = {
        id,
        merchant_id: M,
        member_id: memberId,
        template_id: 'tpl_1',
        alipay_template_id: 'ALI_TPL_1',
        alipay_user_id: userOf(i),
        alipay_open_id: null,
        alipay_union_id: null,
        biz_card_no: `KG${String(i).padStart(6, '0')}`,
        alipay_card_no: `ALI${String(i).padStart(8, '0')}`,
        status: active ? 'active' : 'deleted',
        out_string: null,
        point: 0,
        level: null,
        balance: null,
        state_version: 1,
        pushed_version: 1,
        open_date: '2026-12-01 00:00:00',
        valid_date: '2036-12-01 00:00:00',
        deleted_at: active ? null : createdAt,
        delete_reason: active ? null : 'USER_DELETE',
        created_at: createdAt,
        updated_at: createdAt,
      }
      await db.db.insertInto('cards').values(row).execute()
      cardIds.push(id)
    }

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, { clock })
      await ensureDefaultMerchant({ db: db.db, clock })
      otherMerchant = (await createMerchant(deps, { name: '另一家' }, { actor: 'cli' })).id

      // Members a minute apart; each opened one card at the time given below.
      const opened = [
        '2026-11-29T15:59:59.999Z', // 29 Nov 23:59:59 China time: before a 3-day window
        '2026-11-29T16:00:00.000Z', // 30 Nov 00:00 China time: the window's first instant
        '2026-12-01T15:59:59.999Z', // 1 Dec 23:59:59
        '2026-12-01T16:00:00.000Z', // 2 Dec 00:00
      ]
      for (let i = 0; i < MEMBERS; i++) {
        clock.advance(60_000)
        const member = await reserveMember(
          deps,
          M,
          userOf(i),
          { mobile: mobileOf(i), name: '张三' },
          { prefix: 'KG', style: 'sequential' },
        )
        await activateMember(deps, member.id)
        await insertCard(i, member.id, opened[i % 4]!, i !== 7)
      }
      // A claim that never opened: a pending member, listed nowhere.
      await reserveMember(deps, M, userOf(99), {}, { prefix: 'KG', style: 'sequential' })
      const elsewhere = await reserveMember(
        deps,
        otherMerchant,
        userOf(0),
        {},
        {
          prefix: 'OT',
          style: 'sequential',
        },
      )
      await activateMember(deps, elsewhere.id)

      const entry = (id: string, card: string, delta: number, at: string) => ({
        id,
        merchant_id: M,
        card_id: card,
        delta,
        point_after: 0,
        reason: 'test',
        source: 'admin:test',
        idempotency_key: id,
        created_at: at,
      })
      await db.db
        .insertInto('point_entries')
        .values([
          entry('pe_1', 'crd_001', 100, '2026-12-02T01:00:00.000Z'),
          entry('pe_2', 'crd_002', 50, '2026-11-29T16:00:00.000Z'),
          entry('pe_3', 'crd_001', -30, '2026-12-02T02:00:00.000Z'),
          entry('pe_4', 'crd_003', 999, '2026-11-29T15:00:00.000Z'), // before the window
          entry('pe_5', 'crd_003', -999, '2026-11-20T15:00:00.000Z'), // before the window
        ])
        .execute()

      const claim = (id: string, at: string, status: 'done' | 'failed', code: string | null) => ({
        id,
        merchant_id: M,
        request_id: `req_${id}`,
        alipay_template_id: 'ALI_TPL_1',
        out_string: null,
        alipay_user_id: id === 'clm_3' ? null : userOf(3),
        status,
        card_id: null,
        error_code: code,
        error_message: code ? `reason of ${id}` : null,
        created_at: at,
        updated_at: at,
      })
      await db.db
        .insertInto('claims')
        .values([
          claim('clm_1', '2026-12-01T01:00:00.000Z', 'failed', 'CRM_LEVEL_UNKNOWN'),
          claim('clm_2', '2026-12-01T02:00:00.000Z', 'done', null),
          claim('clm_3', '2026-12-02T03:00:00.000Z', 'failed', 'ALIPAY_CARD_OPEN_FAILED'),
        ])
        .execute()

      for (const n of [1, 2, 3]) {
        await enqueue(deps, { merchantId: M, topic: 'alipay.cardPush', payload: { n } })
      }
      await enqueue(deps, {
        merchantId: otherMerchant,
        topic: 'alipay.cardPush',
        payload: {},
      })
      const [first] = await db.db
        .selectFrom('outbox')
        .select('id')
        .where('merchant_id', '=', M)
        .orderBy('id')
        .execute()
      await db.db
        .updateTable('outbox')
        .set({ status: 'parked', last_error: 'signature' })
        .where('id', '=', first!.id)
        .execute()

      const audit = async (at: string, actor: string, action: string, target: string) => {
        const [type, id] = target.split(':') as [string, string]
        const c = fixedClock(at)
        await recordAudit(
          { ...{ clock: c, ids: deps.ids }, db: db.db },
          {
            merchantId: M,
            actor,
            action,
            target: { type, id },
            after: { token: 'secret value' },
          },
        )
      }
      await audit('2026-11-30T02:00:00.000Z', 'admin:usr_a', 'template.publish', 'template:tpl_1')
      await audit('2026-12-01T02:00:00.000Z', 'admin:usr_a', 'template.update', 'template:tpl_2')
      await audit('2026-12-01T15:59:59.000Z', 'admin:usr_b', 'card.points.adjust', 'card:crd_001')
      await audit('2026-12-01T16:00:01.000Z', 'system', 'claim.failed', 'claim:clm_1')
      await audit('2026-12-02T05:00:00.000Z', 'admin:usr_b', 'templates.bulk', 'template:tpl_1')

      m = await startManagement(deps)
    })
    afterAll(async () => {
      await m?.close()
      await db?.destroy()
    })

    it('pages members without a search term, newest first, the total on every page', async () => {
      const seen: string[] = []
      for (const page of [1, 2, 3]) {
        const res = await m.call(
          'GET',
          `/api/merchants/${M}/members?page=${page}&pageSize=10`,
          'viewer',
        )
        expect(res.statusCode, res.body).toBe(200)
        const body = res.json()
        expect(body).toMatchObject({ total: MEMBERS, page, pageSize: 10 })
        expect(body.items).toHaveLength(page < 3 ? 10 : 5)
        seen.push(...body.items.map((x: { alipayUserId: string }) => x.alipayUserId))
        expect(body.items[0].cards).toHaveLength(1)
        expect(body.items[0].masked.mobile).toMatch(/^138\*{4}\d{4}$/)
      }
      // Each member once, the newest first; neither the pending nor the other merchant's.
      expect(seen).toEqual(Array.from({ length: MEMBERS }, (_, i) => userOf(MEMBERS - 1 - i)))
      const byNumber = (
        await m.call(
          'GET',
          `/api/merchants/${M}/members?sort=bizCardNo&order=asc&pageSize=3`,
          'viewer',
        )
      ).json()
      expect(byNumber.items.map((x: { bizCardNo: string }) => x.bizCardNo)).toEqual([
        'KG0000000001',
        'KG0000000002',
        'KG0000000003',
      ])
    })

    it('finds a member by mobile, either card number or Alipay user id in one box', async () => {
      const find = async (q: string) => {
        const res = await m.call(
          'GET',
          `/api/merchants/${M}/members?q=${encodeURIComponent(q)}`,
          'operator',
        )
        expect(res.statusCode, res.body).toBe(200)
        return res.json() as { total: number; items: { alipayUserId: string }[] }
      }
      for (const q of [mobileOf(5), '138 0013 8005', userOf(5), 'KG000005', 'ALI00000005']) {
        const found = await find(q)
        expect(found.total, q).toBe(1)
        expect(
          found.items.map((x) => x.alipayUserId),
          q,
        ).toEqual([userOf(5)])
      }
      expect((await find('13900000000')).total).toBe(0)
      expect((await find('NO-SUCH-CARD')).total).toBe(0)
      // The explicit fields still work, and narrow together with q.
      const both = await m.call(
        'GET',
        `/api/merchants/${M}/members?q=${mobileOf(5)}&alipayUserId=${userOf(6)}`,
        'viewer',
      )
      expect(both.json().total).toBe(0)
    })

    it("shows a card's claim history, failed claims with their errcode", async () => {
      const res = await m.call('GET', '/api/cards/crd_003', 'viewer')
      expect(res.statusCode, res.body).toBe(200)
      expect(
        res
          .json()
          .claims.map((c: { id: string; status: string; errcode: string | null }) => [
            c.id,
            c.status,
            c.errcode,
          ]),
      ).toEqual([
        ['clm_2', 'done', null],
        ['clm_1', 'failed', 'CRM_LEVEL_UNKNOWN'],
      ])
      expect((await m.call('GET', '/api/cards/crd_004', 'viewer')).json().claims).toEqual([])
    })

    it('refuses a page size above the limit, naming the field', async () => {
      const res = await m.call('GET', `/api/merchants/${M}/members?pageSize=500`, 'viewer')
      expect(res.statusCode).toBe(400)
      expect(res.json().errcode).toBe('REQUEST_INVALID')
      expect(JSON.stringify(res.json().details.fields)).toContain('querystring.pageSize')
      const sort = await m.call('GET', `/api/merchants/${M}/members?sort=mobile`, 'viewer')
      expect(sort.statusCode).toBe(400)
      expect(sort.json().message).toContain('querystring.sort')
      expect((await m.call('GET', '/api/merchants/mch_nope/members', 'viewer')).statusCode).toBe(
        404,
      )
    })

    it('counts the dashboard in SQL with China-time days', async () => {
      const res = await m.call('GET', `/api/dashboard?merchantId=${M}&days=3`, 'viewer')
      expect(res.statusCode, res.body).toBe(200)
      const d = res.json()
      // Of 25 cards (i % 4 picks the time): 7 before the window, 6 on 30 Nov, 6 on 1 Dec, 6 on 2 Dec.
      expect(d.claimsPerDay).toEqual([
        { date: '2026-11-30', count: 6 },
        { date: '2026-12-01', count: 6 },
        { date: '2026-12-02', count: 6 },
      ])
      expect(d.activeCards).toBe(MEMBERS - 1)
      expect(d.pointsIssued).toBe(150)
      expect(d.pointsRedeemed).toBe(30)
      expect(d.outbox).toEqual({ pending: 2, parked: 1 })
      expect(d.recentClaimFailures).toEqual([
        {
          at: '2026-12-02T03:00:00.000Z',
          errcode: 'ALIPAY_CARD_OPEN_FAILED',
          reason: 'reason of clm_3',
        },
        {
          at: '2026-12-01T01:00:00.000Z',
          errcode: 'CRM_LEVEL_UNKNOWN',
          reason: 'reason of clm_1',
          memberRef: userOf(3),
        },
      ])
      const month = (await m.call('GET', '/api/dashboard', 'viewer')).json()
      expect(month.merchantId).toBe(M)
      expect(month.claimsPerDay).toHaveLength(30)
      expect(month.claimsPerDay.at(-1)).toEqual({ date: '2026-12-02', count: 6 })
      expect(month.claimsPerDay.reduce((n: number, x: { count: number }) => n + x.count, 0)).toBe(
        MEMBERS,
      )
      expect(month.pointsRedeemed).toBe(30 + 999)

      expect((await m.call('GET', '/api/dashboard')).statusCode).toBe(401)
      expect((await m.call('GET', '/api/dashboard?merchantId=mch_nope', 'viewer')).statusCode).toBe(
        404,
      )
      const other = (
        await m.call('GET', `/api/dashboard?merchantId=${otherMerchant}`, 'admin')
      ).json()
      expect(other).toMatchObject({ activeCards: 0, outbox: { pending: 1, parked: 0 } })
    })

    it('filters the audit log by actor, action, object and China-time days, paged', async () => {
      const search = async (query: string) => {
        const res = await m.call('GET', `/api/audit?merchantId=${M}&${query}`, 'admin')
        expect(res.statusCode, res.body).toBe(200)
        return res.json() as {
          total: number
          page: number
          pageSize: number
          items: { action: string; actor: string; after: { token: string } }[]
        }
      }
      const all = await search('pageSize=2')
      expect(all).toMatchObject({ total: 5, page: 1, pageSize: 2 })
      expect(all.items.map((a) => a.action)).toEqual(['templates.bulk', 'claim.failed'])
      expect(all.items[0]!.after.token).toBe('<elided>')
      expect((await search('pageSize=2&page=3')).items.map((a) => a.action)).toEqual([
        'template.publish',
      ])
      expect((await search('order=asc&pageSize=1')).items[0]!.action).toBe('template.publish')

      expect((await search('actor=admin:usr_b')).total).toBe(2)
      // A prefix matches whole dotted words only: `template` is not `templates.bulk`.
      expect((await search('action=template')).items.map((a) => a.action)).toEqual([
        'template.update',
        'template.publish',
      ])
      expect((await search('action=template.publish')).total).toBe(1)
      expect((await search('object=template:tpl_1')).total).toBe(2)
      expect((await search('object=template')).total).toBe(3)
      expect((await search('object=crd_001')).total).toBe(1)
      // 1 Dec China time runs from 30 Nov 16:00 to 1 Dec 16:00 UTC.
      expect((await search('from=2026-12-01&to=2026-12-01')).items.map((a) => a.action)).toEqual([
        'card.points.adjust',
        'template.update',
      ])
      expect(
        (await search('from=2026-12-01T16:00:00Z&actor=system')).items.map((a) => a.action),
      ).toEqual(['claim.failed'])

      const bad = await m.call('GET', '/api/audit?from=yesterday', 'admin')
      expect(bad.statusCode).toBe(400)
      expect(bad.json().details.fields[0].field).toBe('querystring.from')
      const swapped = await m.call('GET', '/api/audit?from=2026-12-02&to=2026-12-01', 'admin')
      expect(swapped.statusCode).toBe(400)
      expect((await m.call('GET', '/api/audit', 'viewer')).statusCode).toBe(403)
      expect((await m.call('GET', '/api/audit', 'operator')).statusCode).toBe(403)
    })

    it('pages and sorts the configuration lists; a viewer reads them but cannot write', async () => {
      for (const [name, alipayShopId] of [
        ['南京西路店', '2015060900077000000000000003'],
        ['北京路店', undefined],
        ['安福路店', '2015060900077000000000000001'],
      ] as const) {
        const res = await m.call('POST', `/api/merchants/${M}/shops`, 'admin', {
          name,
          latitude: 31.2,
          longitude: 121.4,
          ...(alipayShopId ? { alipayShopId } : {}),
        })
        expect(res.statusCode, res.body).toBe(201)
      }
      const first = (await m.call('GET', `/api/merchants/${M}/shops?pageSize=2`, 'viewer')).json()
      expect(first).toMatchObject({ total: 3, page: 1, pageSize: 2 })
      // Pinyin order: An, Bei, Nan.
      expect(first.items.map((s: { name: string }) => s.name)).toEqual(['安福路店', '北京路店'])
      const byShopId = (
        await m.call('GET', `/api/merchants/${M}/shops?sort=alipayShopId&order=desc`, 'viewer')
      ).json()
      // Shops without an Alipay shop id come last whichever the order.
      expect(byShopId.items.map((s: { name: string }) => s.name)).toEqual([
        '南京西路店',
        '安福路店',
        '北京路店',
      ])
      const refused = await m.call('POST', `/api/merchants/${M}/shops`, 'viewer', {
        name: '不该有的店',
        latitude: 31.2,
        longitude: 121.4,
      })
      expect(refused.statusCode).toBe(403)
      expect(refused.json().message).toContain('settings.write')

      expect((await m.call('GET', `/api/merchants/${M}/templates`, 'viewer')).json()).toEqual({
        items: [],
        total: 0,
        page: 1,
        pageSize: 20,
      })
      const merchants = (await m.call('GET', '/api/merchants?sort=name', 'viewer')).json()
      expect(merchants.total).toBe(2)
      const users = (await m.call('GET', '/api/admin-users?sort=role&order=asc', 'admin')).json()
      expect(users.items.map((u: { role: string }) => u.role)).toEqual([
        'admin',
        'operator',
        'viewer',
      ])
      const outbox = (
        await m.call('GET', `/api/outbox?merchantId=${M}&status=pending`, 'viewer')
      ).json()
      expect(outbox).toMatchObject({ total: 2, page: 1, counts: { pending: 2, parked: 1 } })
    })
  })
}
