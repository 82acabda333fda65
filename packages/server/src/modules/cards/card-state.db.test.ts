import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { testConfig, testDeps } from '../../../test/helpers/deps.js'
import type { AppDeps } from '../../deps.js'
import { systemClock } from '../../shared/clock.js'
import { createIds } from '../../shared/ids.js'
import { ensureDefaultMerchant } from '../merchants/index.js'
import { listOutbox, retryParked } from '../outbox/index.js'
import { adjustPoints, setCardState } from './index.js'

for (const dialect of DIALECTS) {
  describe(`${dialect}: card state under concurrency`, () => {
    let db: TestDb
    const ids = createIds()
    let deps: AppDeps

    async function newCard(point: number): Promise<string> {
      const now = systemClock.nowIso()
      const memberId = ids.next('mbr')
      const cardId = ids.next('card')
      await db.db
        .insertInto('members')
        .values({
          id: memberId,
          merchant_id: 'mch_default',
          alipay_user_id: `2088${String(Math.random()).slice(2, 14).padEnd(12, '0')}`,
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
      await db.db
        .insertInto('cards')
        .values({
          id: cardId,
          merchant_id: 'mch_default',
          member_id: memberId,
          template_id: 'tpl_x',
          alipay_template_id: 'T1',
          alipay_user_id: '2088000000000001',
          biz_card_no: `KG${memberId}`,
          alipay_card_no: `A${cardId}`,
          status: 'active',
          out_string: null,
          point,
          level: null,
          balance: null,
          state_version: 1,
          pushed_version: 1,
          open_date: now,
          valid_date: now,
          deleted_at: null,
          delete_reason: null,
          created_at: now,
          updated_at: now,
        })
        .execute()
      return cardId
    }

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db)
      await ensureDefaultMerchant({ db: db.db, clock: systemClock })
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('adds points once when the same idempotency key arrives many times at once', async () => {
      const cardId = await newCard(100)
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          adjustPoints(deps, cardId, {
            delta: 25,
            reason: 'order',
            source: 'till',
            idempotencyKey: 'order-42',
          }),
        ),
      )
      expect(results.filter((r) => !r.replayed)).toHaveLength(1)
      const card = await db.db
        .selectFrom('cards')
        .select('point')
        .where('id', '=', cardId)
        .executeTakeFirstOrThrow()
      expect(Number(card.point)).toBe(125)
      const entries = await db.db
        .selectFrom('point_entries')
        .selectAll()
        .where('card_id', '=', cardId)
        .execute()
      expect(entries).toHaveLength(1)
    })

    it('replays a deduction whose twin is still running instead of refusing it', async () => {
      const cardId = await newCard(100)
      const results = await Promise.all(
        Array.from({ length: 4 }, () =>
          adjustPoints(deps, cardId, {
            delta: -100,
            reason: 'redeem',
            source: 'till',
            idempotencyKey: 'redeem-all',
          }),
        ),
      )
      expect(results.filter((r) => !r.replayed)).toHaveLength(1)
      expect(results.filter((r) => r.replayed)).toHaveLength(3)
      expect(results.every((r) => r.card.point === 0)).toBe(true)
      const entries = await db.db
        .selectFrom('point_entries')
        .select('delta')
        .where('card_id', '=', cardId)
        .execute()
      expect(entries.map((e) => Number(e.delta))).toEqual([-100])
    })

    it('writes an admin adjustment to the audit log, with the reason', async () => {
      const cardId = await newCard(10)
      await adjustPoints(deps, cardId, {
        delta: 5,
        reason: 'complaint #12',
        source: 'admin:adm_1',
        idempotencyKey: 'adj-audit-1',
        audit: { actor: 'admin:adm_1', requestId: 'req-1' },
      })
      const audit = await db.db
        .selectFrom('audit_log')
        .selectAll()
        .where('target_id', '=', cardId)
        .execute()
      expect(audit).toHaveLength(1)
      expect(audit[0]).toMatchObject({ actor: 'admin:adm_1', action: 'card.adjust_points' })
      expect(JSON.parse(audit[0]!.before_json!)).toEqual({ point: 10 })
      expect(JSON.parse(audit[0]!.after_json!)).toMatchObject({
        point: 15,
        reason: 'complaint #12',
      })
    })

    it('refuses to adjust points while a CRM owns them, changing nothing', async () => {
      const cardId = await newCard(10)
      await db.db
        .updateTable('merchants')
        .set({ crm_mode: 'crm' })
        .where('id', '=', 'mch_default')
        .execute()
      try {
        await expect(
          adjustPoints(deps, cardId, {
            delta: 5,
            reason: 'x',
            source: 'admin:adm_1',
            idempotencyKey: 'adj-crm-1',
          }),
        ).rejects.toMatchObject({ code: 'POINTS_OWNED_BY_CRM', kind: 'conflict' })
      } finally {
        await db.db
          .updateTable('merchants')
          .set({ crm_mode: 'none' })
          .where('id', '=', 'mch_default')
          .execute()
      }
      const card = await db.db
        .selectFrom('cards')
        .select('point')
        .where('id', '=', cardId)
        .executeTakeFirstOrThrow()
      expect(Number(card.point)).toBe(10)
    })

    it('never lets concurrent redemptions take the balance below zero', async () => {
      const cardId = await newCard(50)
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          adjustPoints(deps, cardId, {
            delta: -20,
            reason: 'redeem',
            source: 'till',
            idempotencyKey: `redeem-${i}`,
          }),
        ),
      )
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2)
      const card = await db.db
        .selectFrom('cards')
        .select('point')
        .where('id', '=', cardId)
        .executeTakeFirstOrThrow()
      expect(Number(card.point)).toBe(10)
    })

    it('keeps the ledger consistent with the card when CRM updates race', async () => {
      const cardId = await newCard(100)
      await Promise.all(
        [150, 120, 180, 90, 130].map((point, i) =>
          setCardState(deps, cardId, {
            point,
            reason: 'crm',
            source: 'crm',
            idempotencyKey: `nonce:${i}`,
          }),
        ),
      )
      const card = await db.db
        .selectFrom('cards')
        .select('point')
        .where('id', '=', cardId)
        .executeTakeFirstOrThrow()
      const entries = await db.db
        .selectFrom('point_entries')
        .select('delta')
        .where('card_id', '=', cardId)
        .execute()
      expect(100 + entries.reduce((sum, e) => sum + Number(e.delta), 0)).toBe(Number(card.point))
    })

    it('retries a parked push even when a newer push of the same card waits', async () => {
      const cardId = await newCard(1)
      await setCardState(deps, cardId, {
        point: 2,
        reason: 'a',
        source: 'crm',
        idempotencyKey: 'p-1',
      })
      const [first] = await listOutbox(db, { topic: 'alipay.cardPush', status: 'pending' }).then(
        (all) => all.filter((e) => (e.payload as { cardId: string }).cardId === cardId),
      )
      await db.db
        .updateTable('outbox')
        .set({ status: 'parked' })
        .where('id', '=', first!.id)
        .execute()
      await setCardState(deps, cardId, {
        point: 3,
        reason: 'b',
        source: 'crm',
        idempotencyKey: 'p-2',
      })
      await retryParked({ db: db.db, clock: systemClock }, 'all')
      const mine = (await listOutbox(db, { topic: 'alipay.cardPush', limit: 500 })).filter(
        (e) => (e.payload as { cardId: string }).cardId === cardId,
      )
      expect(mine.filter((e) => e.status === 'pending')).toHaveLength(1)
      expect(mine.find((e) => e.id === first!.id)?.status).toBe('done')
    })

    it('settles a hot card: its changes within the settle time ride in one push, due once', async () => {
      const cardId = await newCard(0)
      const settled = { ...deps, config: testConfig({ KAGUAN_CARD_PUSH_SETTLE_MS: '1000' }) }
      const first = Date.now()
      let lastAt = first
      for (let point = 1; point <= 5; point++) {
        if (point === 5) {
          await new Promise((r) => setTimeout(r, 50))
          lastAt = Date.now()
        }
        await setCardState(settled, cardId, {
          point,
          reason: 'settle',
          source: 'crm',
          idempotencyKey: `settle-${cardId}-${point}`,
        })
      }
      const pushes = (await listOutbox(db, { topic: 'alipay.cardPush' })).filter(
        (e) => (e.payload as { cardId: string }).cardId === cardId,
      )
      expect(pushes).toHaveLength(1)
      // Due a settle time after the first change, not put off by the later ones.
      const due = Date.parse(pushes[0]!.nextAttemptAt)
      expect(due).toBeGreaterThanOrEqual(first + 1000)
      expect(due).toBeLessThan(lastAt + 1000)
    })
  })
}
