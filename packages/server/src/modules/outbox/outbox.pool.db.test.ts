import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { capturingLogger } from '../../../test/helpers/logs.js'
import { systemClock } from '../../shared/clock.js'
import { createIds } from '../../shared/ids.js'
import {
  createOutboxWorker,
  createSharedPacer,
  enqueue,
  listOutbox,
  notifyOutbox,
  OutboxStatus,
  type OutboxHandler,
  type OutboxWorker,
} from './index.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits (bounded) until `done()` holds; false when it never did. */
async function until(done: () => boolean | Promise<boolean>, capMs: number): Promise<boolean> {
  const deadline = Date.now() + capMs
  while (Date.now() < deadline) {
    if (await done()) {
      return true
    }
    await sleep(10)
  }
  return done()
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: outbox pool, wake-up and shared pace`, () => {
    let db: TestDb
    const clock = systemClock
    const ids = createIds(() => Date.now())
    const { log } = capturingLogger()
    const workers: OutboxWorker[] = []

    const worker = (
      workerId: string,
      handlers: Record<string, OutboxHandler>,
      extra: { concurrency?: number; pollMs?: number } = {},
    ) => {
      const w = createOutboxWorker({
        db: db.db,
        dialect: db.dialect,
        clock,
        log,
        workerId,
        handlers,
        pollMs: extra.pollMs ?? 50,
        concurrency: extra.concurrency ?? 4,
      })
      workers.push(w)
      return w
    }
    const put = (topic: string, payload: unknown, collapseKey?: string) =>
      enqueue(
        { clock, ids, db: db.db },
        { merchantId: 'm1', topic, payload, ...(collapseKey ? { collapseKey } : {}) },
      )
    const doneCount = async () =>
      (await listOutbox(db, { status: OutboxStatus.Done, limit: 1000 })).length

    beforeAll(async () => {
      db = await createTestDb(dialect)
    })
    afterAll(async () => {
      await db.destroy()
    })
    beforeEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop()))
      await db.db.deleteFrom('outbox').execute()
      await db.db.deleteFrom('delivery_pace').execute()
    })

    it('two workers with their own pacers stay within one shared pace together', async () => {
      const perSecond = 40
      const at: { worker: string; t: number }[] = []
      const handlersOf = (name: string): Record<string, OutboxHandler> => {
        // One pacer per worker, as each process has its own: only the database row is shared.
        const pacer = createSharedPacer(db, { perSecond })
        return {
          push: async () => {
            await pacer.wait('alipay:app1')
            at.push({ worker: name, t: Date.now() })
          },
        }
      }
      for (let k = 0; k < 40; k++) {
        await put('push', { k })
      }
      worker('w1', handlersOf('w1')).start()
      worker('w2', handlersOf('w2')).start()
      expect(await until(() => at.length === 40, 8_000)).toBe(true)

      expect(new Set(at.map((a) => a.worker)).size).toBe(2)
      const times = at.map((a) => a.t).sort((a, b) => a - b)
      // 40 calls at 40/s: the slots span 39 intervals of 25 ms; timers may fire a little early.
      expect(times[39]! - times[0]!).toBeGreaterThanOrEqual(39 * 25 - 30)
      // No 500 ms window holds much more than the pace allows (20): a late timer on a busy machine
      // may bunch a few. Each worker pacing alone would put ~40 in the first half second.
      for (let i = 0; i < times.length; i++) {
        const inWindow = times.filter((t) => t >= times[i]! && t < times[i]! + 500).length
        expect(inWindow).toBeLessThanOrEqual(24)
      }
    })

    it('keeps pushing the others while one delivery is slow (a pool, not batches)', async () => {
      let releaseSlow!: () => void
      const slowGate = new Promise<void>((r) => (releaseSlow = r))
      const seen: number[] = []
      await put('t', { k: 0 })
      for (let k = 1; k <= 12; k++) {
        await put('t', { k })
      }
      worker('w1', {
        t: async (e) => {
          const { k } = e.payload as { k: number }
          if (k === 0) {
            await slowGate
          }
          seen.push(k)
        },
      }).start()
      // With batches of 4 waiting for their slowest, only 3 could finish while entry 0 hangs.
      expect(await until(() => seen.length === 12, 5_000)).toBe(true)
      expect(seen).not.toContain(0)
      releaseSlow()
      expect(await until(() => seen.length === 13, 5_000)).toBe(true)
    })

    it('is woken by notifyOutbox instead of waiting for its poll', async () => {
      const seen: number[] = []
      worker('w1', { t: async () => void seen.push(Date.now()) }, { pollMs: 60_000 }).start()
      await sleep(100) // the first (empty) claim has run; the next poll is a minute away
      const t0 = Date.now()
      await put('t', { a: 1 })
      notifyOutbox()
      expect(await until(() => seen.length === 1, 3_000)).toBe(true)
      expect(seen[0]! - t0).toBeLessThan(1_000)
    })

    it('never delivers one card twice at once, and the last value is what arrives last', async () => {
      const inFlight = new Map<string, number>()
      let overlap = 0
      const last = new Map<string, number>()
      worker(
        'w1',
        {
          push: async (e) => {
            const { card, v } = e.payload as { card: string; v: number }
            inFlight.set(card, (inFlight.get(card) ?? 0) + 1)
            if (inFlight.get(card)! > 1) {
              overlap++
            }
            await sleep(15)
            last.set(card, v)
            inFlight.set(card, inFlight.get(card)! - 1)
          },
        },
        { concurrency: 8, pollMs: 20 },
      ).start()
      const cards = ['c1', 'c2', 'c3']
      for (let v = 1; v <= 30; v++) {
        for (const card of cards) {
          await put('push', { card, v }, card)
        }
        notifyOutbox()
        await sleep(3)
      }
      expect(await until(async () => cards.every((c) => last.get(c) === 30), 8_000)).toBe(true)
      expect(overlap).toBe(0)
      // Collapsed: far fewer deliveries than the 90 changes.
      expect(await doneCount()).toBeLessThan(90)
    })

    it('a change joining a waiting push keeps its earlier time (a hot card is not put off)', async () => {
      const soon = new Date(Date.now() + 1_000).toISOString()
      const later = new Date(Date.now() + 5_000).toISOString()
      await enqueue(
        { clock, ids, db: db.db },
        { merchantId: 'm1', topic: 'push', payload: { v: 1 }, collapseKey: 'c1', notBefore: soon },
      )
      await enqueue(
        { clock, ids, db: db.db },
        { merchantId: 'm1', topic: 'push', payload: { v: 2 }, collapseKey: 'c1', notBefore: later },
      )
      const items = await listOutbox(db, { topic: 'push' })
      expect(items).toHaveLength(1)
      expect(items[0]).toMatchObject({ payload: { v: 2 }, nextAttemptAt: soon })
    })
  })
}
