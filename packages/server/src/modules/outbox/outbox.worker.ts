import type { DatabaseDialect } from '../../config.js'
import type { Db } from '../../db/db.js'
import type { Clock } from '../../shared/clock.js'
import type { Logger } from '../../shared/log.js'
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js'
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
 * Delivers one entry. Return to finish it; throw to try again later. An error whose `retryable` is
 * `false` (e.g. AlipayError for a business rejection) parks the entry at once: retrying cannot help.
 */
export type OutboxHandler = (entry: OutboxEntry) => Promise<void>

export interface OutboxWorkerOptions {
  db: Db
  dialect: DatabaseDialect
  clock: Clock
  log: Logger
  handlers: Readonly<Record<string, OutboxHandler>>
  workerId: string
  backoff?: BackoffPolicy
  /** How long a claimed entry stays ours; a worker that dies mid-push loses it after this. */
  leaseMs?: number
  batchSize?: number
  pollMs?: number
  random?: () => number
}

export interface OutboxWorker {
  /** Claims and delivers one batch; resolves to the number of entries handled. */
  runOnce(): Promise<number>
  start(): void
  /** Stops polling and waits for the batch in flight. */
  stop(): Promise<void>
}

export function createOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  const { db, dialect, clock, log, handlers, workerId } = options
  const policy = options.backoff ?? defaultBackoff
  const leaseMs = options.leaseMs ?? 60_000
  const batchSize = options.batchSize ?? 20
  const pollMs = options.pollMs ?? 500
  const topics = Object.keys(handlers)
  let running = false
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<number> | undefined

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
      await handler(entry)
      const held = await repo.markDone(db, row.id, workerId, clock.nowIso())
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

  async function runOnce(): Promise<number> {
    const now = clock.now()
    await repo.supersedeExpired(db, now.toISOString())
    const rows = await repo.claimDue(db, dialect, {
      workerId,
      now: now.toISOString(),
      leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
      limit: batchSize,
      topics,
    })
    await Promise.all(rows.map(deliver))
    return rows.length
  }

  function schedule(delay: number): void {
    if (!running) {
      return
    }
    timer = setTimeout(() => {
      inFlight = runOnce()
      inFlight
        .then((n) => schedule(n >= batchSize ? 0 : pollMs))
        .catch((error: unknown) => {
          log.error({ err: error }, 'outbox poll failed')
          schedule(pollMs * 4)
        })
    }, delay)
  }

  return {
    runOnce,
    start() {
      if (running) {
        return
      }
      running = true
      schedule(0)
    },
    async stop() {
      running = false
      if (timer) {
        clearTimeout(timer)
      }
      await inFlight?.catch(() => 0)
    },
  }
}
