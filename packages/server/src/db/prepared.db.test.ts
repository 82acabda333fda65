import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../test/helpers/db.js'
import { prepared } from './prepared.js'

for (const dialect of DIALECTS) {
  describe(`${dialect}: prepared statements`, () => {
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

    const insert = prepared(
      (
        trx,
        v: { id: string; merchantId?: string | null; result: string | null },
        shape: 'once' | 'plain',
      ) => {
        const q = trx.insertInto('inbound_messages').values({
          source: 'test',
          message_id: v.id,
          ...(v.merchantId !== undefined ? { merchant_id: v.merchantId } : {}),
          received_at: '2026-12-07T00:00:00.000Z',
          result: v.result,
        })
        return (
          shape === 'once'
            ? q.onConflict((oc) => oc.columns(['source', 'message_id']).doNothing())
            : q
        ).returning(['message_id', 'merchant_id', 'result'])
      },
    )
    const byId = prepared((trx, v: { id: string }) =>
      trx
        .selectFrom('inbound_messages')
        .select(['message_id', 'merchant_id', 'result'])
        .where('source', '=', 'test')
        .where('message_id', '=', v.id),
    )

    it('runs each call with its own values, the constants the builder wrote kept', async () => {
      await insert(db.db, { id: 'a', merchantId: 'm1', result: 'one' }, 'plain')
      await insert(db.db, { id: 'b', merchantId: null, result: null }, 'plain')
      expect((await byId(db.db, { id: 'a' })).rows).toEqual([
        { message_id: 'a', merchant_id: 'm1', result: 'one' },
      ])
      expect((await byId(db.db, { id: 'b' })).rows).toEqual([
        { message_id: 'b', merchant_id: null, result: null },
      ])
      expect((await byId(db.db, { id: 'c' })).rows).toEqual([])
    })

    it('compiles a statement per shape and per set of values given', async () => {
      // Without merchantId the column is left out (null by default), not bound to a stale value.
      await insert(db.db, { id: 'a', merchantId: 'm1', result: 'one' }, 'plain')
      await insert(db.db, { id: 'b', result: 'two' }, 'plain')
      expect((await byId(db.db, { id: 'b' })).rows[0]).toEqual({
        message_id: 'b',
        merchant_id: null,
        result: 'two',
      })
      // The `once` shape has its own text: a repeat inserts nothing instead of failing.
      const again = await insert(db.db, { id: 'a', merchantId: 'm2', result: 'x' }, 'once')
      expect(again.rows).toEqual([])
      await expect(insert(db.db, { id: 'a', result: 'x' }, 'plain')).rejects.toThrow()
    })

    it('runs inside a transaction of the same database, and rolls back with it', async () => {
      await db.db
        .transaction()
        .execute(async (trx) => {
          await insert(trx, { id: 't', result: null }, 'plain')
          expect((await byId(trx, { id: 't' })).rows).toHaveLength(1)
          throw new Error('roll back')
        })
        .catch(() => undefined)
      expect((await byId(db.db, { id: 't' })).rows).toEqual([])
    })

    it('refuses a value the builder does not pass through as one parameter', async () => {
      const concatenated = prepared((trx, v: { id: string }) =>
        trx.selectFrom('inbound_messages').selectAll().where('message_id', '=', `x-${v.id}`),
      )
      await expect(concatenated(db.db, { id: 'a' })).rejects.toThrow(/transformed/)
      const ignored = prepared((trx, _v: { id: string }) =>
        trx.selectFrom('inbound_messages').selectAll().where('message_id', '=', 'a'),
      )
      await expect(ignored(db.db, { id: 'a' })).rejects.toThrow(/id not a parameter/)
    })
  })
}
