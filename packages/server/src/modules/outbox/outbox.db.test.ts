import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { capturingLogger } from '../../../test/helpers/logs.js'
import { createGroupCommit, type GroupCommit, type Work } from '../../db/group-commit.js'
import { fixedClock } from '../../shared/clock.js'
import { createIds } from '../../shared/ids.js'
import {
  createOutboxWorker,
  enqueue,
  getOutboxItem,
  listOutbox,
  OutboxStatus,
  retryParked,
  type OutboxCompletion,
  type OutboxEntry,
} from './index.js'

/** A group commit that tells which keys its work came with and how many transactions it took. */
function observedGroupCommit(writes: GroupCommit) {
  const keys: (string | undefined)[] = []
  const transactions = new Set<unknown>()
  const observed: GroupCommit = {
    run: <T>(work: Work<T>, key?: string) => {
      keys.push(key)
      return writes.run((trx) => {
        transactions.add(trx)
        return work(trx)
      }, key)
    },
    close: () => writes.close(),
  }
  return { writes: observed, keys, transactions }
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: outbox`, () => {
    let db: TestDb
    const clock = fixedClock('2026-11-21T08:00:00.000Z')
    const ids = createIds(() => clock.now().getTime())
    const deps = { clock, ids }
    const { log } = capturingLogger()

    beforeAll(async () => {
      db = await createTestDb(dialect)
    })
    afterAll(async () => {
      await db.destroy()
    })
    beforeEach(async () => {
      await db.db.deleteFrom('outbox').execute()
    })

    it('collapses pending entries with the same key into one, keeping the last payload', async () => {
      for (let point = 1; point <= 5; point++) {
        await enqueue(
          { ...deps, db: db.db },
          {
            merchantId: 'm1',
            topic: 'card.push',
            collapseKey: 'card_1',
            payload: { point },
          },
        )
      }
      await enqueue(
        { ...deps, db: db.db },
        {
          merchantId: 'm1',
          topic: 'card.push',
          collapseKey: 'card_2',
          payload: { point: 9 },
        },
      )
      const items = await listOutbox(db, { topic: 'card.push' })
      expect(items).toHaveLength(2)
      expect(items.find((i) => i.collapseKey === 'card_1')?.payload).toEqual({ point: 5 })
    })

    it('delivers due entries once and marks them done', async () => {
      const seen: OutboxEntry[] = []
      const id = await enqueue(
        { ...deps, db: db.db },
        { merchantId: 'm1', topic: 't', payload: { a: 1 } },
      )
      const worker = createOutboxWorker({
        db: db.db,
        dialect: db.dialect,
        clock,
        log,
        workerId: 'w1',
        handlers: { t: async (e) => void seen.push(e) },
      })
      expect(await worker.runOnce()).toBe(1)
      expect(await worker.runOnce()).toBe(0)
      expect(seen).toEqual([expect.objectContaining({ id, payload: { a: 1 }, attempt: 1 })])
      expect((await getOutboxItem(db, id))?.status).toBe(OutboxStatus.Done)
    })

    it('takes a backlog in batches of the batch size, each entry once', async () => {
      const seen: string[] = []
      for (let k = 0; k < 12; k++) {
        await enqueue(
          { ...deps, db: db.db },
          {
            merchantId: 'm1',
            topic: 'card.push',
            collapseKey: `card_${k}`,
            payload: { k },
          },
        )
      }
      const worker = createOutboxWorker({
        db: db.db,
        dialect: db.dialect,
        clock,
        log,
        workerId: 'w1',
        batchSize: 5,
        handlers: { 'card.push': async (e) => void seen.push(e.id) },
      })
      const batches = [await worker.runOnce(), await worker.runOnce(), await worker.runOnce()]
      expect(batches).toEqual([5, 5, 2])
      expect(await worker.runOnce()).toBe(0)
      expect(new Set(seen).size).toBe(12)
    })

    it('retries a retryable failure after a backoff, and parks a final one at once', async () => {
      const flaky = await enqueue(
        { ...deps, db: db.db },
        { merchantId: 'm1', topic: 'flaky', payload: {} },
      )
      const final = await enqueue(
        { ...deps, db: db.db },
        { merchantId: 'm1', topic: 'final', payload: {} },
      )
      let calls = 0
      const worker = createOutboxWorker({
        db: db.db,
        dialect: db.dialect,
        clock,
        log,
        workerId: 'w1',
        random: () => 1,
        backoff: { baseMs: 1000, maxMs: 60_000, maxAttempts: 5 },
        handlers: {
          flaky: async () => {
            calls++
            if (calls < 3) {
              throw Object.assign(new Error('gateway 20000'), { retryable: true })
            }
          },
          final: async () => {
            throw Object.assign(new Error('ISV.CARD_TEMPLATE_NOT_EXIST'), { retryable: false })
          },
        },
      })
      await worker.runOnce()
      expect(await getOutboxItem(db, final)).toMatchObject({
        status: 'parked',
        lastError: 'ISV.CARD_TEMPLATE_NOT_EXIST',
      })
      expect(await getOutboxItem(db, flaky)).toMatchObject({
        status: 'pending',
        nextAttemptAt: '2026-11-21T08:00:01.000Z',
      })
      expect(await worker.runOnce()).toBe(0) // not due yet
      clock.advance(1000)
      await worker.runOnce()
      expect((await getOutboxItem(db, flaky))?.nextAttemptAt).toBe('2026-11-21T08:00:03.000Z') // 2 s later
      clock.advance(2000)
      await worker.runOnce()
      expect((await getOutboxItem(db, flaky))?.status).toBe('done')
      expect(calls).toBe(3)

      expect(await retryParked({ db: db.db, clock }, [final])).toBe(1)
      expect(await getOutboxItem(db, final)).toMatchObject({ status: 'pending', attempts: 0 })
    })

    it('parks an entry after the last allowed attempt', async () => {
      const id = await enqueue(
        { ...deps, db: db.db },
        { merchantId: 'm1', topic: 'down', payload: {} },
      )
      const worker = createOutboxWorker({
        db: db.db,
        dialect: db.dialect,
        clock,
        log,
        workerId: 'w1',
        random: () => 0,
        backoff: { baseMs: 10, maxMs: 10, maxAttempts: 3 },
        handlers: { down: () => Promise.reject(new Error('ECONNREFUSED')) },
      })
      for (let i = 0; i < 5; i++) {
        await worker.runOnce()
        clock.advance(10)
      }
      expect(await getOutboxItem(db, id)).toMatchObject({
        status: 'parked',
        attempts: 3,
        lastError: 'ECONNREFUSED',
      })
    })

    it('gives an entry whose worker died to another worker once the lease runs out', async () => {
      const id = await enqueue(
        { ...deps, db: db.db },
        { merchantId: 'm1', topic: 't', payload: {} },
      )
      const dead = createOutboxWorker({
        db: db.db,
        dialect: db.dialect,
        clock,
        log,
        workerId: 'dead',
        leaseMs: 30_000,
        handlers: { t: () => new Promise(() => {}) },
      })
      void dead.runOnce() // never finishes: the process "crashed" mid-push
      await new Promise((r) => setTimeout(r, 50))
      const delivered: string[] = []
      const alive = createOutboxWorker({
        db: db.db,
        dialect: db.dialect,
        clock,
        log,
        workerId: 'alive',
        handlers: { t: async (e) => void delivered.push(e.id) },
      })
      expect(await alive.runOnce()).toBe(0)
      clock.advance(30_001)
      expect(await alive.runOnce()).toBe(1)
      expect(delivered).toEqual([id])
      expect((await getOutboxItem(db, id))?.status).toBe('done')
    })

    // Issue 16: a worker dies mid-push; while its lease runs, a newer change for the same card is
    // queued. Once the lease expires both entries are due: they must not be delivered side by side.
    it('never delivers two entries of one collapse key at once after a lease expires', async () => {
      await enqueue(
        { ...deps, db: db.db },
        {
          merchantId: 'm1',
          topic: 'card.push',
          collapseKey: 'card_1',
          payload: { point: 1 },
        },
      )
      const dead = createOutboxWorker({
        db: db.db,
        dialect: db.dialect,
        clock,
        log,
        workerId: 'dead',
        leaseMs: 30_000,
        handlers: { 'card.push': () => new Promise(() => {}) },
      })
      void dead.runOnce() // never finishes: the process was killed mid-push
      await new Promise((r) => setTimeout(r, 50))
      await enqueue(
        { ...deps, db: db.db },
        {
          merchantId: 'm1',
          topic: 'card.push',
          collapseKey: 'card_1',
          payload: { point: 2 },
        },
      )
      clock.advance(30_001)

      let inFlight = 0
      let maxInFlight = 0
      const delivered: unknown[] = []
      const workers = ['a', 'b'].map((w) =>
        createOutboxWorker({
          db: db.db,
          dialect: db.dialect,
          clock,
          log,
          workerId: w,
          handlers: {
            'card.push': async (e) => {
              inFlight++
              maxInFlight = Math.max(maxInFlight, inFlight)
              await new Promise((r) => setTimeout(r, 20))
              delivered.push(e.payload)
              inFlight--
            },
          },
        }),
      )
      for (let round = 0; round < 3; round++) {
        await Promise.all(workers.map((w) => w.runOnce()))
      }
      expect(maxInFlight).toBe(1)
      // The stale entry is superseded by the newer one: one delivery, with the latest state.
      expect(delivered).toEqual([{ point: 2 }])
      const entries = await listOutbox(db, { topic: 'card.push' })
      expect(entries.map((e) => e.status).sort()).toEqual(['done', 'done'])
    })

    it('tries a fresh change merged into a backing-off entry promptly, with its own count', async () => {
      const id = await enqueue(
        { ...deps, db: db.db },
        {
          merchantId: 'm1',
          topic: 'card.push',
          collapseKey: 'card_9',
          payload: { point: 1 },
        },
      )
      const worker = createOutboxWorker({
        db: db.db,
        dialect: db.dialect,
        clock,
        log,
        workerId: 'w1',
        random: () => 1,
        backoff: { baseMs: 60_000, maxMs: 600_000, maxAttempts: 5 },
        handlers: {
          'card.push': () => Promise.reject(Object.assign(new Error('20000'), { retryable: true })),
        },
      })
      await worker.runOnce()
      expect(await getOutboxItem(db, id)).toMatchObject({ status: 'pending', attempts: 1 })
      await enqueue(
        { ...deps, db: db.db },
        {
          merchantId: 'm1',
          topic: 'card.push',
          collapseKey: 'card_9',
          payload: { point: 2 },
        },
      )
      expect(await getOutboxItem(db, id)).toMatchObject({
        payload: { point: 2 },
        attempts: 0,
        nextAttemptAt: clock.now().toISOString(),
      })
    })

    it('never hands one entry to two concurrent workers', async () => {
      for (let i = 0; i < 60; i++) {
        await enqueue({ ...deps, db: db.db }, { merchantId: 'm1', topic: 'c', payload: { i } })
      }
      const delivered: string[] = []
      const workers = ['a', 'b', 'c', 'd'].map((w) =>
        createOutboxWorker({
          db: db.db,
          dialect: db.dialect,
          clock,
          log,
          workerId: w,
          batchSize: 7,
          handlers: {
            c: async (e) => {
              delivered.push(e.id)
              await new Promise((r) => setTimeout(r, 2))
            },
          },
        }),
      )
      for (let round = 0; round < 20 && delivered.length < 60; round++) {
        await Promise.all(workers.map((w) => w.runOnce()))
      }
      expect(delivered).toHaveLength(60)
      expect(new Set(delivered).size).toBe(60)
    })

    it('delivers entries of one order key in order, one at a time, a failed one first', async () => {
      const seen: string[] = []
      let addFails = 2
      for (const type of ['ADD', 'DEL']) {
        await enqueue(
          { ...deps, db: db.db },
          {
            merchantId: 'm1',
            topic: 'crm.change',
            orderKey: 'card_1',
            payload: { type },
          },
        )
      }
      await enqueue(
        { ...deps, db: db.db },
        {
          merchantId: 'm1',
          topic: 'crm.change',
          orderKey: 'card_2',
          payload: { type: 'ADD2' },
        },
      )
      const workers = ['w1', 'w2'].map((workerId) =>
        createOutboxWorker({
          db: db.db,
          dialect: db.dialect,
          clock,
          log,
          workerId,
          random: () => 0,
          backoff: { baseMs: 1000, maxMs: 1000, maxAttempts: 10 },
          handlers: {
            'crm.change': async (e) => {
              const { type } = e.payload as { type: string }
              if (type === 'ADD' && addFails-- > 0) {
                throw Object.assign(new Error('CRM down'), { retryable: true })
              }
              seen.push(type)
            },
          },
        }),
      )
      for (let round = 0; round < 6; round++) {
        await Promise.all(workers.map((w) => w.runOnce()))
        clock.advance(1000)
      }
      expect(seen.filter((t) => t !== 'ADD2')).toEqual(['ADD', 'DEL'])
      expect(seen).toContain('ADD2')
      // The other card was not held up by card_1's failures.
      expect(seen.indexOf('ADD2')).toBeLessThan(seen.indexOf('ADD'))
    })

    // Issue 12: a completion per autocommit cost a commit (an fsync on PostgreSQL) per delivery.
    it('records the completions of concurrent deliveries in shared transactions, by collapse key', async () => {
      const entries = 10
      for (let i = 0; i < entries; i++) {
        await enqueue(
          { ...deps, db: db.db },
          { merchantId: 'm1', topic: 'card.push', collapseKey: `card_${i}`, payload: { i } },
        )
      }
      const observed = observedGroupCommit(createGroupCommit(db.db))
      const worker = createOutboxWorker({
        db: db.db,
        writes: observed.writes,
        dialect: db.dialect,
        clock,
        log,
        workerId: 'w1',
        handlers: { 'card.push': async () => undefined },
      })
      expect(await worker.runOnce()).toBe(entries)
      await observed.writes.close()
      expect(observed.keys.sort()).toEqual(
        Array.from({ length: entries }, (_, i) => `card_${i}`).sort(),
      )
      // All ten were finished together: one transaction (two if a flush came between them).
      expect(observed.transactions.size).toBeLessThanOrEqual(2)
      const items = await listOutbox(db, { topic: 'card.push' })
      expect(items.map((i) => i.status)).toEqual(Array(entries).fill(OutboxStatus.Done))
    })

    for (const grouped of [false, true]) {
      it(`commits a handler's completion write with the entry's completion, both or neither${grouped ? ' (group commit)' : ''}`, async () => {
        await db.db.deleteFrom('delivery_pace').execute()
        const ok = await enqueue(
          { ...deps, db: db.db },
          { merchantId: 'm1', topic: 't', payload: { fail: false } },
        )
        const failing = await enqueue(
          { ...deps, db: db.db },
          { merchantId: 'm1', topic: 't', payload: { fail: true } },
        )
        const writes = grouped ? createGroupCommit(db.db) : undefined
        const worker = createOutboxWorker({
          db: db.db,
          ...(writes ? { writes } : {}),
          dialect: db.dialect,
          clock,
          log,
          workerId: 'w1',
          handlers: {
            // A row in a table of the outbox module stands for what a handler records.
            t: async (e): Promise<OutboxCompletion> => ({
              key: `key:${e.id}`,
              write: async (trx) => {
                await trx
                  .insertInto('delivery_pace')
                  .values({ pace_key: e.id, next_slot_us: 1 })
                  .execute()
                if ((e.payload as { fail: boolean }).fail) {
                  throw new Error('cannot record the delivery')
                }
              },
            }),
          },
        })
        expect(await worker.runOnce()).toBe(2)
        await writes?.close()
        expect(await getOutboxItem(db, ok)).toMatchObject({ status: OutboxStatus.Done })
        expect(await getOutboxItem(db, failing)).toMatchObject({
          status: OutboxStatus.Pending,
          lastError: 'cannot record the delivery',
        })
        const recorded = await db.db.selectFrom('delivery_pace').select('pace_key').execute()
        expect(recorded.map((r) => r.pace_key)).toEqual([ok])
      })
    }

    it('warns when a delivery finishes after its lease was lost (group commit)', async () => {
      const capture = capturingLogger()
      const id = await enqueue(
        { ...deps, db: db.db },
        { merchantId: 'm1', topic: 'card.push', collapseKey: 'card_1', payload: {} },
      )
      const writes = createGroupCommit(db.db)
      let recorded = 0
      const worker = createOutboxWorker({
        db: db.db,
        writes,
        dialect: db.dialect,
        clock,
        log: capture.log,
        workerId: 'w1',
        handlers: {
          'card.push': async () => {
            // Another worker took the entry over meanwhile (this one was too slow).
            await db.db
              .updateTable('outbox')
              .set({ locked_by: 'w2' })
              .where('id', '=', id)
              .execute()
            return { write: async () => void recorded++ }
          },
        },
      })
      await worker.runOnce()
      await writes.close()
      expect(await getOutboxItem(db, id)).toMatchObject({ status: OutboxStatus.Running })
      expect(capture.text()).toContain('outbox entry finished after its lease was lost')
      // The push happened all the same: what it records stays true.
      expect(recorded).toBe(1)
    })
  })
}
