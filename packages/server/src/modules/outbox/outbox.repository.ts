import { sql } from 'kysely'
import type { DatabaseDialect } from '../../config.js'
import type { Executor } from '../../db/db.js'
import { OutboxStatus, type NewOutboxRow, type OutboxRow } from './outbox.table.js'

/**
 * Inserts an entry; with a collapse key, a still-pending entry with the same key takes the new
 * payload instead (last state wins), so a burst of changes to one card becomes one push.
 */
export function upsert(db: Executor, row: NewOutboxRow): Promise<OutboxRow> {
  let q = db.insertInto('outbox').values(row)
  if (row.collapse_key != null) {
    q = q.onConflict((oc) =>
      oc
        .columns(['topic', 'collapse_key'])
        // A literal, not a parameter: SQLite matches the partial index only on an identical predicate.
        .where('status', '=', sql.lit(OutboxStatus.Pending))
        .doUpdateSet((eb) => ({
          payload: eb.ref('excluded.payload'),
          updated_at: eb.ref('excluded.updated_at'),
          version: eb(eb.ref('outbox.version'), '+', 1),
        })),
    )
  }
  return q.returningAll().executeTakeFirstOrThrow()
}

/**
 * Leases up to `limit` due entries to `workerId` until `leaseUntil`. Entries whose lease ran out
 * (a worker died mid-push) are due again. On PostgreSQL several workers claim concurrently with
 * FOR UPDATE SKIP LOCKED and never get the same row; SQLite has one writer, so the statement is
 * atomic as it stands.
 */
export async function claimDue(
  db: Executor,
  dialect: DatabaseDialect,
  args: {
    workerId: string
    now: string
    leaseUntil: string
    limit: number
    topics?: readonly string[]
  },
): Promise<OutboxRow[]> {
  let due = db
    .selectFrom('outbox')
    .select('id')
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', OutboxStatus.Pending), eb('next_attempt_at', '<=', args.now)]),
        eb.and([eb('status', '=', OutboxStatus.Running), eb('locked_until', '<', args.now)]),
      ]),
    )
    .orderBy('next_attempt_at')
    .limit(args.limit)
  if (args.topics?.length) {
    due = due.where('topic', 'in', args.topics)
  }
  if (dialect === 'postgres') {
    due = due.forUpdate().skipLocked()
  }

  return db
    .updateTable('outbox')
    .set((eb) => ({
      status: OutboxStatus.Running,
      locked_by: args.workerId,
      locked_until: args.leaseUntil,
      attempts: eb(eb.ref('attempts'), '+', 1),
      updated_at: args.now,
    }))
    .where('id', 'in', due)
    .returningAll()
    .execute()
}

/** Finishes an entry this worker still holds; false when the lease was lost to another worker. */
export async function markDone(
  db: Executor,
  id: string,
  workerId: string,
  now: string,
): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({
      status: OutboxStatus.Done,
      done_at: now,
      updated_at: now,
      locked_by: null,
      locked_until: null,
      last_error: null,
    })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .where('status', '=', OutboxStatus.Running)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** Puts an entry back for a later attempt, or parks it. */
export async function release(
  db: Executor,
  id: string,
  workerId: string,
  next: {
    status: typeof OutboxStatus.Pending | typeof OutboxStatus.Parked
    nextAttemptAt: string
    error: string
    now: string
  },
): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({
      status: next.status,
      next_attempt_at: next.nextAttemptAt,
      last_error: next.error,
      updated_at: next.now,
      locked_by: null,
      locked_until: null,
    })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .where('status', '=', OutboxStatus.Running)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export function findById(db: Executor, id: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst()
}

export function list(
  db: Executor,
  filter: { merchantId?: string; status?: OutboxStatus; topic?: string; limit: number },
): Promise<OutboxRow[]> {
  let q = db.selectFrom('outbox').selectAll()
  if (filter.merchantId) {
    q = q.where('merchant_id', '=', filter.merchantId)
  }
  if (filter.status) {
    q = q.where('status', '=', filter.status)
  }
  if (filter.topic) {
    q = q.where('topic', '=', filter.topic)
  }
  return q.orderBy('id', 'desc').limit(filter.limit).execute()
}

/** Makes parked entries due now; returns how many. */
export async function unpark(
  db: Executor,
  ids: readonly string[] | 'all',
  now: string,
): Promise<number> {
  let q = db
    .updateTable('outbox')
    .set({ status: OutboxStatus.Pending, next_attempt_at: now, attempts: 0, updated_at: now })
    .where('status', '=', OutboxStatus.Parked)
  if (ids !== 'all') {
    q = q.where('id', 'in', ids.length ? ids : [''])
  }
  const r = await q.executeTakeFirst()
  return Number(r.numUpdatedRows)
}

export async function countByStatus(db: Executor): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('outbox')
    .select(['status', sql<number>`count(*)`.as('n')])
    .groupBy('status')
    .execute()
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
}
