import type { DatabaseDialect } from '../../config.js'
import type { Db, Executor } from '../../db/db.js'
import type { GroupCommit } from '../../db/group-commit.js'
import type { Clock } from '../../shared/clock.js'
import type { Logger } from '../../shared/log.js'
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js'
import { onOutboxNotify } from './outbox.notify.js'
import * as repo from './outbox.repository.js'
import { OutboxStatus, type OutboxRow } from './outbox.table.js'

/** What a handler sees of an entry. */
export interface OutboxEntry<P = unknown> {
  id: string
  merchantId: string
  topic: string
  payload: P
  /** 1 on the first try. */
  attempt: number
}

/**
 * What a handler records of a delivery that succeeded (e.g. the card version Alipay now shows).
 * It is written in the transaction that marks the entry done, so both commit or neither: a
 * handler's own autocommit would cost a commit of its own per delivery (issue 12). If that
 * transaction fails the entry is delivered again, as when the handler throws.
 */
export interface OutboxCompletion {
  /**
   * The write, in the transaction given. It may run again from scratch (group commit,
   * db/group-commit.ts) and, when the lease was lost meanwhile, without the entry being marked
   * done: it records only what the delivery did, so it stays true either way.
   */
  write: (trx: Executor) => Promise<void>
  /**
   * The group-commit key of what `write` changes: the key the module's other writes to it use, so
   * they share a lane (never two PostgreSQL transactions locking it at once). Without it, the
   * entry's collapse key.
   */
  key?: string
}

/**
 * Delivers one entry. Return (optionally with a completion write) to finish it; throw to try again
 * later. An error whose `retryable` is `false` (e.g. AlipayError for a business rejection) parks the
 * entry at once: retrying cannot help.
 */
export type OutboxHandler = (entry: OutboxEntry) => Promise<OutboxCompletion | void>

export interface OutboxWorkerOptions {
  db: Db
  /**
   * Records finished deliveries in the write path's group commit (issue 12): the completions of
   * concurrent deliveries, and the CRM changes arriving with them, share a commit. Without it each
   * completion is a transaction of its own.
   */
  writes?: GroupCommit
  dialect: DatabaseDialect
  clock: Clock
  log: Logger
  handlers: Readonly<Record<string, OutboxHandler>>
  workerId: string
  backoff?: BackoffPolicy
  /** How long a claimed entry stays ours; a worker that dies mid-push loses it after this. */
  leaseMs?: number
  /** Entries `runOnce` claims at a time. */
  batchSize?: number
  /**
   * Deliveries `start()` keeps in flight at most (a pool: a slow push holds one place, not a whole
   * batch). Entries of one collapse or order key are never in flight together.
   */
  concurrency?: number
  /** The fallback poll: how often an idle worker looks for due entries nobody told it about. */
  pollMs?: number
  /**
   * Least time between two claims woken by new work or a finished delivery (wakes in between are
   * gathered into the next claim). A backlog (the last claim filled every free place) is claimed
   * again as soon as half the places are free.
   */
  claimGapMs?: number
  random?: () => number
}

export interface OutboxWorker {
  /** Claims and delivers one batch; resolves to the number of entries handled. */
  runOnce(): Promise<number>
  /** Runs the pool: woken by {@link notifyOutbox} and by a finished delivery, else every `pollMs`. */
  start(): void
  /** Stops claiming and waits for the deliveries in flight. */
  stop(): Promise<void>
}

export function createOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  const { db, dialect, clock, log, handlers, workerId } = options
  const policy = options.backoff ?? defaultBackoff
  const leaseMs = options.leaseMs ?? 60_000
  const batchSize = options.batchSize ?? 20
  const concurrency = Math.max(1, options.concurrency ?? batchSize)
  // A finished delivery claims again only once half the places are free: a claim per finished push
  // would cost a query each under load.
  const lowWater = Math.max(0, Math.floor(concurrency / 2))
  const pollMs = options.pollMs ?? 500
  const claimGapMs = options.claimGapMs ?? 100
  const topics = Object.keys(handlers)
  let running = false
  let timer: NodeJS.Timeout | undefined

  async function deliver(row: OutboxRow): Promise<void> {
    const handler = handlers[row.topic]
    const entry: OutboxEntry = {
      id: row.id,
      merchantId: row.merchant_id,
      topic: row.topic,
      payload: JSON.parse(row.payload) as unknown,
      attempt: row.attempts,
    }
    try {
      if (!handler) {
        throw Object.assign(new Error(`no handler for topic ${row.topic}`), { retryable: false })
      }
      const completion = await handler(entry)
      const held = await recordDone(row, completion || undefined)
      if (!held) {
        log.warn({ outboxId: row.id }, 'outbox entry finished after its lease was lost')
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const retryable = (error as { retryable?: unknown }).retryable !== false
      const park = !retryable || row.attempts >= policy.maxAttempts
      const now = clock.now()
      const next = new Date(
        now.getTime() + (park ? 0 : backoffDelay(policy, row.attempts, options.random)),
      )
      await repo.release(db, row.id, workerId, {
        status: park ? OutboxStatus.Parked : OutboxStatus.Pending,
        nextAttemptAt: next.toISOString(),
        error: message.slice(0, 2000),
        now: now.toISOString(),
      })
      log[park ? 'error' : 'warn'](
        {
          outboxId: row.id,
          topic: row.topic,
          attempt: row.attempts,
          retryable,
          parked: park,
          err: message,
        },
        park ? 'outbox entry parked' : 'outbox entry failed; will retry',
      )
    }
  }

  /**
   * Marks a delivered entry done if this worker still holds it, with the handler's completion
   * write in the same transaction; resolves to whether the lease was still held. Only after the
   * delivery succeeded: a crash before this commits leaves the entry running, and it is delivered
   * again once its lease runs out (at least once).
   */
  function recordDone(row: OutboxRow, completion?: OutboxCompletion): Promise<boolean> {
    const work = async (trx: Executor): Promise<boolean> => {
      // Read inside the work: it may run again, later, in a retried batch.
      const held = await repo.markDone(trx, row.id, workerId, clock.nowIso())
      await completion?.write(trx)
      return held
    }
    if (options.writes) {
      return options.writes.run(work, completion?.key ?? row.collapse_key ?? undefined)
    }
    return completion ? db.transaction().execute(work) : work(db)
  }

  async function claim(limit: number): Promise<OutboxRow[]> {
    const now = clock.now()
    return repo.claimDue(db, dialect, {
      workerId,
      now: now.toISOString(),
      leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
      limit,
      topics,
    })
  }

  async function runOnce(): Promise<number> {
    await repo.supersedeExpired(db, clock.nowIso())
    const rows = await claim(batchSize)
    await Promise.all(rows.map(deliver))
    return rows.length
  }

  // The pool (start/stop). One claim at a time; a wake during a claim makes it claim again.
  const active = new Set<Promise<void>>()
  let claiming: Promise<void> | undefined
  let wakeAgain = false
  let unsubscribe: (() => void) | undefined
  // Expired leases are rare (a worker died): looked for on the poll, not on every claim.
  let lastSupersede = 0

  // Wakes come with every committed change and every finished push: they are gathered so that
  // claims run at most every `claimGapMs`, each taking what accumulated (on SQLite a claim holds
  // the one connection every request waits for).
  let lastClaimAt = 0
  let gapTimer: NodeJS.Timeout | undefined

  // The last claim filled every place it asked for: more is probably due.
  let backlog = false

  function wake(urgent = false): void {
    if (!running) {
      return
    }
    if (claiming) {
      wakeAgain = true
      return
    }
    if (gapTimer && !urgent) {
      return
    }
    if (gapTimer) {
      clearTimeout(gapTimer)
      gapTimer = undefined
    }
    const wait = urgent ? 0 : lastClaimAt + claimGapMs - Date.now()
    if (wait > 0) {
      gapTimer = setTimeout(() => {
        gapTimer = undefined
        wake()
      }, wait)
      return
    }
    lastClaimAt = Date.now()
    claiming = fill().finally(() => {
      claiming = undefined
      if (wakeAgain) {
        wake()
      }
    })
  }

  function start(row: OutboxRow): void {
    const delivery: Promise<void> = deliver(row)
      .catch((error: unknown) => {
        // deliver() handles the handler's failures; this is the database failing under it.
        log.error({ err: error, outboxId: row.id }, 'outbox delivery could not be recorded')
      })
      .finally(() => {
        active.delete(delivery)
        // A finished push frees a place and may have unblocked the next entry of its key.
        if (active.size <= lowWater) {
          wake(backlog)
        }
      })
    active.add(delivery)
  }

  /** One claim for the free places; a wake that came meanwhile asks for the next (after the gap). */
  async function fill(): Promise<void> {
    let failed = false
    wakeAgain = false
    try {
      const free = concurrency - active.size
      if (free > 0) {
        const nowMs = clock.now().getTime()
        if (nowMs - lastSupersede >= pollMs) {
          lastSupersede = nowMs
          await repo.supersedeExpired(db, clock.nowIso())
        }
        const rows = await claim(free)
        backlog = rows.length === free
        for (const row of rows) {
          start(row)
        }
      }
    } catch (error) {
      failed = true
      backlog = false
      log.error({ err: error }, 'outbox poll failed')
    }
    arm(failed ? pollMs * 4 : pollMs)
  }

  /** The fallback poll, re-armed after every claim. */
  function arm(delay: number): void {
    if (timer) {
      clearTimeout(timer)
    }
    if (!running) {
      return
    }
    timer = setTimeout(() => {
      timer = undefined
      wake()
    }, delay)
  }

  return {
    runOnce,
    start() {
      if (running) {
        return
      }
      running = true
      unsubscribe = onOutboxNotify(wake)
      wake()
    },
    async stop() {
      running = false
      unsubscribe?.()
      if (timer) {
        clearTimeout(timer)
      }
      if (gapTimer) {
        clearTimeout(gapTimer)
      }
      await claiming?.catch(() => undefined)
      await Promise.allSettled([...active])
    },
  }
}
