import { sql, type Transaction } from 'kysely'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../test/helpers/db.js'
import { claimNonce } from '../modules/crm/index.js'
import { fixedClock } from '../shared/clock.js'
import { createGroupCommit } from './group-commit.js'
import type { Database } from './schema.js'

const clock = fixedClock('2026-12-07T00:00:00.000Z')

for (const dialect of DIALECTS) {
  describe(`${dialect}: group commit`, () => {
    let db: TestDb
    beforeAll(async () => {
      db = await createTestDb(dialect)
    })
    afterAll(async () => {
      await db.destroy()
    })
    beforeEach(async () => {
      await db.db.deleteFrom('inbound_messages').execute()
    })

    const remember = (trx: Transaction<Database>, id: string) =>
      trx
        .insertInto('inbound_messages')
        .values({
          source: 'test',
          message_id: id,
          merchant_id: null,
          received_at: clock.nowIso(),
          result: null,
        })
        .execute()

    const stored = async () =>
      (
        await db.db
          .selectFrom('inbound_messages')
          .select('message_id')
          .where('source', '=', 'test')
          .orderBy('message_id')
          .execute()
      ).map((r) => r.message_id)

    it('runs the work submitted together in one transaction and answers each after the commit', async () => {
      const writes = createGroupCommit(db.db)
      const seen = new Set<unknown>()
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((id) =>
          writes.run(async (trx) => {
            seen.add(trx)
            await remember(trx, id)
            return id.toUpperCase()
          }),
        ),
      )
      expect(results).toEqual(['A', 'B', 'C', 'D'])
      expect(seen.size).toBe(1)
      expect(await stored()).toEqual(['a', 'b', 'c', 'd'])
      await writes.close()
    })

    it('fails only the item that throws: the others commit, its own writes do not', async () => {
      const writes = createGroupCommit(db.db)
      const attempts = new Map<string, number>()
      const outcomes = await Promise.allSettled(
        ['a', 'b', 'c', 'd', 'e'].map((id) =>
          writes.run(async (trx) => {
            attempts.set(id, (attempts.get(id) ?? 0) + 1)
            await remember(trx, id)
            if (id === 'c') {
              throw new Error('c is refused')
            }
            return id
          }),
        ),
      )
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ])
      expect((outcomes[2] as PromiseRejectedResult).reason).toEqual(new Error('c is refused'))
      expect(await stored()).toEqual(['a', 'b', 'd', 'e'])
      // The failing one ran in the batch and once more alone; the others ran again without it.
      expect(attempts.get('c')).toBe(2)
      await writes.close()
    })

    it('survives a statement error inside the batch (PostgreSQL aborts the whole transaction)', async () => {
      const writes = createGroupCommit(db.db)
      const outcomes = await Promise.allSettled(
        ['a', 'b', 'c'].map((id) =>
          writes.run(async (trx) => {
            await remember(trx, id)
            if (id === 'b') {
              await sql`select * from no_such_table`.execute(trx)
            }
          }),
        ),
      )
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect(await stored()).toEqual(['a', 'c'])
      await writes.close()
    })

    it('lets exactly one of two calls with the same nonce in one batch win, and refuses a stored nonce', async () => {
      const writes = createGroupCommit(db.db)
      const claim = (nonce: string, tag: string) =>
        writes.run(async (trx) => {
          await claimNonce({ db: trx, clock }, 'mch_1', nonce)
          await remember(trx, tag)
          return tag
        })
      const outcomes = await Promise.allSettled([
        claim('n1', 'first'),
        claim('n2', 'other'),
        claim('n1', 'second'),
      ])
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
      expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({
        code: 'CRM_NONCE_REPLAYED',
      })
      expect(await stored()).toEqual(['first', 'other'])

      // Committed before: refused in a later batch too, next to a call that goes through.
      const later = await Promise.allSettled([claim('n2', 'again'), claim('n3', 'new')])
      expect(later.map((o) => o.status)).toEqual(['rejected', 'fulfilled'])
      expect(await stored()).toEqual(['first', 'new', 'other'])
      const nonces = await db.db
        .selectFrom('inbound_messages')
        .select('message_id')
        .where('source', '=', 'crm.nonce')
        .orderBy('message_id')
        .execute()
      expect(nonces.map((r) => r.message_id)).toEqual(['mch_1:n1', 'mch_1:n2', 'mch_1:n3'])
      await writes.close()
    })

    it('keeps arrival order inside a batch, so the later change to one row wins', async () => {
      const writes = createGroupCommit(db.db)
      await Promise.all(
        [1, 2, 3, 4, 5].map((n) =>
          writes.run(async (trx) => {
            await trx
              .insertInto('inbound_messages')
              .values({
                source: 'test',
                message_id: 'row',
                merchant_id: null,
                received_at: clock.nowIso(),
                result: String(n),
              })
              .onConflict((oc) =>
                oc.columns(['source', 'message_id']).doUpdateSet({ result: String(n) }),
              )
              .execute()
          }),
        ),
      )
      const row = await db.db
        .selectFrom('inbound_messages')
        .select('result')
        .where('message_id', '=', 'row')
        .executeTakeFirstOrThrow()
      expect(row.result).toBe('5')
      await writes.close()
    })

    it('with several lanes (PostgreSQL), keeps one key in one lane and in order', async () => {
      const writes = createGroupCommit(db.db, { lanes: 3 })
      const trxOf = new Map<string, Set<unknown>>()
      await Promise.all(
        [1, 2, 3, 4, 5, 6].flatMap((n) =>
          ['x', 'y', 'z', 'w'].map((key) =>
            writes.run(async (trx) => {
              trxOf.set(key, (trxOf.get(key) ?? new Set()).add(trx))
              await trx
                .insertInto('inbound_messages')
                .values({
                  source: 'test',
                  message_id: key,
                  merchant_id: null,
                  received_at: clock.nowIso(),
                  result: String(n),
                })
                .onConflict((oc) =>
                  oc.columns(['source', 'message_id']).doUpdateSet({ result: String(n) }),
                )
                .execute()
            }, key),
          ),
        ),
      )
      const rows = await db.db
        .selectFrom('inbound_messages')
        .select(['message_id', 'result'])
        .where('source', '=', 'test')
        .execute()
      expect(rows.map((r) => r.result)).toEqual(['6', '6', '6', '6'])
      // Submitted together: each key's six changes went through one transaction of its lane.
      expect([...trxOf.values()].map((s) => s.size)).toEqual([1, 1, 1, 1])
      await writes.close()
    })

    it('on close commits what is queued, then refuses new work', async () => {
      const writes = createGroupCommit(db.db, { maxBatch: 3 })
      const pending = Array.from({ length: 10 }, (_, i) =>
        writes.run((trx) => remember(trx, `k${String(i).padStart(2, '0')}`)),
      )
      await writes.close()
      // Every item queued before close was committed by the time close resolved.
      expect(await stored()).toHaveLength(10)
      await Promise.all(pending)
      await expect(writes.run((trx) => remember(trx, 'late'))).rejects.toMatchObject({
        code: 'SHUTTING_DOWN',
      })
      expect(await stored()).not.toContain('late')
    })
  })
}
