import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { fixedClock, testDeps } from '../../../test/helpers/deps.js'
import type { AppDeps } from '../../deps.js'
import { ensureDefaultMerchant } from '../merchants/index.js'
import {
  applyLedger,
  cancelExpiredHolds,
  createHoldSweeper,
  getHold,
  type AccountRef,
  type LedgerMeta,
  type LedgerResult,
} from './index.js'

const M = 'mch_default'

async function seedAccount(db: TestDb, deps: AppDeps): Promise<AccountRef> {
  const now = deps.clock.nowIso()
  const memberId = deps.ids.next('mbr')
  const activityId = deps.ids.next('sta')
  await db.db
    .insertInto('members')
    .values({
      id: memberId,
      merchant_id: M,
      alipay_user_id: `2088${memberId.slice(-12)}`,
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
    .insertInto('stamp_activities')
    .values({
      id: activityId,
      merchant_id: M,
      type: 'POINT_SEND',
      status: 'published',
      name: 'test',
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
  return { merchantId: M, memberId, activityId }
}

const meta = (key: string, source: LedgerMeta['source'] = 'admin'): LedgerMeta => ({
  idempotencyKey: key,
  reason: 'test',
  source,
  actor: 'test',
})

async function rejection(p: Promise<unknown>): Promise<{ code?: string }> {
  try {
    await p
  } catch (error) {
    return error as { code?: string }
  }
  throw new Error('expected a rejection')
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: stamp ledger`, () => {
    let db: TestDb
    let deps: AppDeps
    const clock = fixedClock('2026-12-02T08:00:00.000Z')

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, { clock })
      await ensureDefaultMerchant({ db: db.db, clock })
    })
    afterAll(async () => {
      await db.destroy()
    })

    const later = (minutes: number) =>
      new Date(clock.now().getTime() + minutes * 60_000).toISOString()

    it('replays a repeated key with its first answer and refuses a key reused for another request', async () => {
      const account = await seedAccount(db, deps)
      const first = await applyLedger(deps, { type: 'DEPOSIT', account, amount: 3 }, meta('k1'))
      await applyLedger(deps, { type: 'DEPOSIT', account, amount: 2 }, meta('k2'))
      const again = await applyLedger(deps, { type: 'DEPOSIT', account, amount: 3 }, meta('k1'))
      expect(first.replayed).toBe(false)
      expect(again.replayed).toBe(true)
      expect(again.entry.id).toBe(first.entry.id)
      // The first answer, not today's balance.
      expect(again.balances).toEqual({ total: 3, available: 3, frozen: 0 })
      const reused = await rejection(
        applyLedger(deps, { type: 'DEPOSIT', account, amount: 4 }, meta('k1')),
      )
      expect(reused.code).toBe('STAMPS_IDEMPOTENCY_KEY_REUSED')
      const otherType = await rejection(
        applyLedger(deps, { type: 'CONSUME', account, amount: 3 }, meta('k1')),
      )
      expect(otherType.code).toBe('STAMPS_IDEMPOTENCY_KEY_REUSED')
      const entries = await db.db
        .selectFrom('stamp_entries')
        .selectAll()
        .where('idempotency_key', '=', 'k1')
        .execute()
      expect(entries).toHaveLength(1)
    })

    it('never lets available go below zero and names the bad field', async () => {
      const account = await seedAccount(db, deps)
      await applyLedger(deps, { type: 'DEPOSIT', account, amount: 2 }, meta('n1'))
      expect(
        (await rejection(applyLedger(deps, { type: 'CONSUME', account, amount: 3 }, meta('n2'))))
          .code,
      ).toBe('STAMPS_INSUFFICIENT')
      expect(
        (
          await rejection(
            applyLedger(
              deps,
              { type: 'FREEZE', account, amount: 3, expiresAt: later(30) },
              meta('n3'),
            ),
          )
        ).code,
      ).toBe('STAMPS_INSUFFICIENT')
      const bad = (await rejection(
        applyLedger(deps, { type: 'DEPOSIT', account, amount: 0 }, meta('n4')),
      )) as { code?: string; details?: { fields?: { field: string }[] } }
      expect(bad.code).toBe('STAMPS_INVALID')
      expect(bad.details?.fields?.[0]?.field).toBe('amount')
    })

    it('takes back what is there and records the shortfall', async () => {
      const account = await seedAccount(db, deps)
      await applyLedger(deps, { type: 'DEPOSIT', account, amount: 2 }, meta('s1'))
      const back = await applyLedger(
        deps,
        { type: 'CONSUME', account, amount: 5, allowShortfall: true, bizNo: 'T1' },
        meta('s2', 'trade'),
      )
      expect(back.entry).toMatchObject({ amount: 2, shortfall: 3 })
      expect(back.balances.available).toBe(0)
    })

    it('resolves a hold exactly once: commit, cancel, replays', async () => {
      const account = await seedAccount(db, deps)
      await applyLedger(deps, { type: 'DEPOSIT', account, amount: 5 }, meta('h0'))
      const frozen = await applyLedger(
        deps,
        { type: 'FREEZE', account, amount: 5, expiresAt: later(30), outBizNo: 'OB1' },
        meta('h1', 'exchange'),
      )
      expect(frozen.balances).toEqual({ total: 5, available: 0, frozen: 5 })
      const holdId = frozen.hold!.id
      const commit = await applyLedger(
        deps,
        { type: 'COMMIT', merchantId: M, holdId },
        meta('h2', 'exchange'),
      )
      expect(commit.balances).toEqual({ total: 0, available: 0, frozen: 0 })
      expect(commit.hold?.status).toBe('committed')
      expect(
        (await rejection(applyLedger(deps, { type: 'CANCEL', merchantId: M, holdId }, meta('h3'))))
          .code,
      ).toBe('STAMPS_HOLD_RESOLVED')
      expect(
        (await rejection(applyLedger(deps, { type: 'COMMIT', merchantId: M, holdId }, meta('h4'))))
          .code,
      ).toBe('STAMPS_HOLD_RESOLVED')
      const replay = await applyLedger(
        deps,
        { type: 'COMMIT', merchantId: M, holdId },
        meta('h2', 'exchange'),
      )
      expect(replay.replayed).toBe(true)
      expect(replay.entry.id).toBe(commit.entry.id)
      expect(
        (
          await rejection(
            applyLedger(deps, { type: 'COMMIT', merchantId: M, holdId: 'sth_nope' }, meta('h5')),
          )
        ).code,
      ).toBe('STAMPS_HOLD_NOT_FOUND')
    })

    it('the worker step cancels holds past their time to live, and only those', async () => {
      const account = await seedAccount(db, deps)
      await applyLedger(deps, { type: 'DEPOSIT', account, amount: 6 }, meta('t0'))
      const expiring = await applyLedger(
        deps,
        { type: 'FREEZE', account, amount: 2, expiresAt: later(30) },
        meta('t1'),
      )
      const committed = await applyLedger(
        deps,
        { type: 'FREEZE', account, amount: 3, expiresAt: later(30) },
        meta('t2'),
      )
      await applyLedger(
        deps,
        { type: 'COMMIT', merchantId: M, holdId: committed.hold!.id },
        meta('t3'),
      )
      clock.advance(29 * 60_000)
      expect(await cancelExpiredHolds(deps)).toBe(0)
      clock.advance(2 * 60_000)
      expect(await cancelExpiredHolds(deps)).toBe(1)
      expect(await cancelExpiredHolds(deps)).toBe(0)
      const account2 = await db.db
        .selectFrom('stamp_accounts')
        .selectAll()
        .where('member_id', '=', account.memberId)
        .executeTakeFirstOrThrow()
      expect([Number(account2.available), Number(account2.frozen)]).toEqual([3, 0])
      const hold = await db.db
        .selectFrom('stamp_holds')
        .selectAll()
        .where('id', '=', expiring.hold!.id)
        .executeTakeFirstOrThrow()
      expect(hold.status).toBe('cancelled')
      const cancel = await db.db
        .selectFrom('stamp_entries')
        .selectAll()
        .where('hold_id', '=', hold.id)
        .executeTakeFirstOrThrow()
      expect(cancel).toMatchObject({ type: 'CANCEL', source: 'expiry', actor: 'system' })
    })

    it('the sweeper started with the worker cancels an expired hold on its own', async () => {
      const account = await seedAccount(db, deps)
      await applyLedger(deps, { type: 'DEPOSIT', account, amount: 1 }, meta('w0'))
      const frozen = await applyLedger(
        deps,
        { type: 'FREEZE', account, amount: 1, expiresAt: later(-1) },
        meta('w1'),
      )
      const sweeper = createHoldSweeper({ ...deps }, { everyMs: 10 })
      sweeper.start()
      let status = 'held'
      for (let i = 0; i < 100 && status === 'held'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        status = (await getHold(deps, M, frozen.hold!.id)).status
      }
      await sweeper.stop()
      expect(status).toBe('cancelled')
    })

    it('100 concurrent freeze/commit/cancel/consume on one account: invariants hold, nothing lost or doubled', async () => {
      const account = await seedAccount(db, deps)
      await applyLedger(deps, { type: 'DEPOSIT', account, amount: 60 }, meta('c-dep'))
      const holds: string[] = []
      for (let i = 0; i < 20; i++) {
        const r = await applyLedger(
          deps,
          { type: 'FREEZE', account, amount: 1, expiresAt: later(30) },
          meta(`c-pre-${i}`),
        )
        holds.push(r.hold!.id)
      }
      const ops: { key: string; run: () => Promise<LedgerResult> }[] = []
      // Every pre-made hold gets a commit and a cancel at the same time: exactly one may win.
      holds.forEach((holdId, i) => {
        ops.push({
          key: `c-commit-${i}`,
          run: () =>
            applyLedger(deps, { type: 'COMMIT', merchantId: M, holdId }, meta(`c-commit-${i}`)),
        })
        ops.push({
          key: `c-cancel-${i}`,
          run: () =>
            applyLedger(deps, { type: 'CANCEL', merchantId: M, holdId }, meta(`c-cancel-${i}`)),
        })
      })
      const freeze = (i: number) => () =>
        applyLedger(
          deps,
          { type: 'FREEZE', account, amount: 2, expiresAt: later(30) },
          meta(`c-freeze-${i}`),
        )
      for (let i = 0; i < 30; i++) {
        ops.push({ key: `c-freeze-${i}`, run: freeze(i) })
      }
      for (let i = 0; i < 20; i++) {
        ops.push({
          key: `c-consume-${i}`,
          run: () =>
            applyLedger(deps, { type: 'CONSUME', account, amount: 1 }, meta(`c-consume-${i}`)),
        })
      }
      // Retries racing their originals.
      for (let i = 0; i < 10; i++) {
        ops.push({ key: `c-freeze-${i}`, run: freeze(i) })
      }
      expect(ops).toHaveLength(100)
      const settled = await Promise.allSettled(ops.map((o) => o.run()))

      const failures = settled.flatMap((s) =>
        s.status === 'rejected' ? [(s.reason as { code?: string }).code] : [],
      )
      // Only the refusals the rules allow: no deadlock, no constraint error, no internal error.
      expect(failures.length).toBeGreaterThan(0)
      for (const f of failures) {
        expect(['STAMPS_INSUFFICIENT', 'STAMPS_HOLD_RESOLVED']).toContain(f)
      }

      const row = await db.db
        .selectFrom('stamp_accounts')
        .selectAll()
        .where('member_id', '=', account.memberId)
        .executeTakeFirstOrThrow()
      const entries = await db.db
        .selectFrom('stamp_entries')
        .selectAll()
        .where('account_id', '=', row.id)
        .orderBy('seq')
        .execute()
      const holdRows = await db.db
        .selectFrom('stamp_holds')
        .selectAll()
        .where('account_id', '=', row.id)
        .execute()

      // No lost or double entry: every first success is one entry, every replay points at one.
      const fresh = settled.filter((s) => s.status === 'fulfilled' && !s.value.replayed)
      expect(entries).toHaveLength(1 + 20 + fresh.length)
      const keys = entries.map((e) => e.idempotency_key)
      expect(new Set(keys).size).toBe(keys.length)
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') {
          const e = entries.find((x) => x.id === s.value.entry.id)
          expect(e?.idempotency_key).toBe(ops[i]!.key)
        }
      })

      // Each pre-made hold resolved exactly once, by a commit or a cancel.
      for (const holdId of holds) {
        expect(entries.filter((e) => e.hold_id === holdId)).toHaveLength(1)
        expect(holdRows.find((h) => h.id === holdId)?.status).not.toBe('held')
      }

      // The balances are the fold of the ledger, never negative, and frozen is what is held.
      let available = 0
      let frozen = 0
      for (const e of entries) {
        const n = Number(e.amount)
        if (e.type === 'DEPOSIT') {
          available += n
        }
        if (e.type === 'CONSUME') {
          available -= n
        }
        if (e.type === 'FREEZE') {
          available -= n
          frozen += n
        }
        if (e.type === 'COMMIT') {
          frozen -= n
        }
        if (e.type === 'CANCEL') {
          frozen -= n
          available += n
        }
        expect(available).toBeGreaterThanOrEqual(0)
        expect(frozen).toBeGreaterThanOrEqual(0)
      }
      expect([Number(row.available), Number(row.frozen)]).toEqual([available, frozen])
      // Numbered without a gap: no two writers appended the same entry.
      expect(entries.map((e) => Number(e.seq))).toEqual(entries.map((_, i) => i + 1))
      const held = holdRows
        .filter((h) => h.status === 'held')
        .reduce((sum, h) => sum + Number(h.amount), 0)
      expect(frozen).toBe(held)
      // The last entry's running balances agree with the row.
      const last = entries.at(-1)!
      expect([Number(last.available_after), Number(last.frozen_after)]).toEqual([available, frozen])
    })
  })
}
