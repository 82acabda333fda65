import type { Transaction } from 'kysely'
import { AppError, ErrorKind } from '../shared/errors.js'
import type { Db } from './db.js'
import type { Database } from './schema.js'

/** One unit of work: it runs inside a transaction it shares with others, and may run again. */
export type Work<T> = (trx: Transaction<Database>) => Promise<T>

/**
 * Group commit for the CRM-facing write path (issue 12): concurrent short changes share one
 * transaction, so N accepted updates cost one commit (one WAL write on SQLite, one fsync and one
 * `begin`/`commit` round trip pair on PostgreSQL) instead of N.
 *
 * The guarantees are the single-transaction ones, per item:
 * - `run` resolves only after the transaction holding the item committed: an OK answered from it
 *   is durable, and the outbox row written with the change exists.
 * - An item that throws does not fail the others: the transaction is rolled back, the rest run
 *   again together, and the failing item runs once more alone (its error may have come from an
 *   item before it, e.g. the same nonce twice: then alone it fails for its own reason, or
 *   succeeds). Every item is therefore written so that running it again from scratch is correct
 *   (it reads what it needs inside the transaction, and reaches no other system).
 * - Items run one after another in arrival order inside the transaction, so two changes to one
 *   card in one batch end on the later one, as two transactions in that order would.
 *
 * Lanes: each lane runs one transaction at a time; while it runs, its next batch fills, so the
 * batch grows with the load instead of the transaction count. SQLite has one connection: one
 * lane. PostgreSQL answers each statement after a round trip, so one lane would put every
 * statement of every request in one sequence: several lanes use several pool connections. Work
 * is spread over lanes by its key, so two lanes never lock the same card (no deadlock between
 * batches, which PostgreSQL would only break after `deadlock_timeout`, 1 s).
 */
export interface GroupCommit {
  /**
   * Runs `work` in the next batch. `key` names what it changes (a card): work with one key goes
   * to one lane, so it is never in two concurrent transactions and keeps its arrival order.
   */
  run<T>(work: Work<T>, key?: string): Promise<T>
  /** Runs what is queued, then refuses new work (`SHUTTING_DOWN`); resolves when all is settled. */
  close(): Promise<void>
}

export interface GroupCommitOptions {
  /** Transactions in flight at once (1 on SQLite: its one connection). */
  lanes?: number
  /**
   * At most this many items per transaction: it bounds how long one batch holds the (single
   * SQLite) connection, and so the wait of a read queued behind it.
   */
  maxBatch?: number
}

interface Item {
  work: Work<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/** Which item of a batch threw, so the rest can run without it. */
class ItemFailed extends Error {
  readonly index: number
  readonly error: unknown
  constructor(index: number, error: unknown) {
    super('a batched item failed')
    this.index = index
    this.error = error
  }
}

export function createGroupCommit(db: Db, options: GroupCommitOptions = {}): GroupCommit {
  const maxBatch = options.maxBatch ?? 64
  const lanes = Array.from({ length: Math.max(1, options.lanes ?? 1) }, () =>
    createLane(db, maxBatch),
  )
  let next = 0
  let closed = false
  return {
    run<T>(work: Work<T>, key?: string): Promise<T> {
      if (closed) {
        return Promise.reject(
          new AppError(
            ErrorKind.Unavailable,
            'SHUTTING_DOWN',
            'kaguan is shutting down; try again',
          ),
        )
      }
      const lane =
        lanes.length === 1
          ? lanes[0]!
          : lanes[key === undefined ? next++ % lanes.length : hash(key) % lanes.length]!
      return lane.run(work)
    },
    async close() {
      closed = true
      await Promise.all(lanes.map((lane) => lane.drain()))
    },
  }
}

/** A cheap string hash (FNV-1a) to pick a lane. */
function hash(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  }
  return h >>> 0
}

function createLane(db: Db, maxBatch: number) {
  const queue: Item[] = []
  let flushing: Promise<void> | undefined
  async function runTogether(batch: Item[]): Promise<void> {
    try {
      const results = await db.transaction().execute(async (trx) => {
        const out: unknown[] = []
        for (let i = 0; i < batch.length; i++) {
          try {
            out.push(await batch[i]!.work(trx))
          } catch (error) {
            throw new ItemFailed(i, error)
          }
        }
        return out
      })
      batch.forEach((item, i) => item.resolve(results[i]))
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error instanceof ItemFailed ? error.error : error)
        return
      }
      if (!(error instanceof ItemFailed)) {
        // The begin or the commit failed (a busy database, a connection lost): the outcome is
        // not known (a commit can succeed on the server after its answer was lost), so each item
        // is answered with the error, as a transaction of its own would be; retrying here could
        // write a change twice. The CRM resends; its nonce tells a change already made.
        for (const item of batch) {
          item.reject(error)
        }
        return
      }
      // The others first, together; the failing one after them, alone: an item that failed only
      // because of an earlier one in the batch (the same nonce, the same idempotency key) then
      // meets that one committed and fails for good, and one that failed for a passing reason
      // gets its second chance.
      await runTogether(batch.filter((_, i) => i !== error.index))
      await runTogether([batch[error.index]!])
    }
  }

  let scheduled = false
  /**
   * The flush waits for `setImmediate`, after the event loop's I/O phase: the requests read in
   * that phase have queued their work by then (a SQLite transaction completes in microtasks, so
   * flushing sooner would commit each request alone while the others still wait to be read).
   */
  function schedule(): void {
    if (scheduled || flushing || !queue.length) {
      return
    }
    scheduled = true
    setImmediate(() => {
      scheduled = false
      flush()
    })
  }

  function flush(): void {
    if (flushing || !queue.length) {
      return
    }
    const batch = queue.splice(0, maxBatch)
    flushing = runTogether(batch).finally(() => {
      flushing = undefined
      // What arrived while this batch ran is the next batch.
      schedule()
    })
  }

  return {
    run<T>(work: Work<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
        schedule()
      })
    },
    /** Runs what is queued; resolves when nothing is queued or running. */
    async drain() {
      while (flushing || queue.length) {
        flush()
        await flushing
      }
    },
  }
}
