import { sql } from 'kysely'
import type { DatabaseDialect } from '../../config.js'
import type { Executor } from '../../db/db.js'
import { prepared } from '../../db/prepared.js'
import { OutboxStatus, type NewOutboxRow, type OutboxRow } from './outbox.table.js'

// Every change to a card queues its push here: compiled once (db/prepared.ts).
const insertEntry = prepared((db, row: NewOutboxRow, shape: 'collapse' | 'insert') => {
  const q = db.insertInto('outbox').values(row)
  if (shape === 'insert') {
    return q.returningAll()
  }
  return q
    .onConflict((oc) =>
      oc
        .columns(['topic', 'collapse_key'])
        // A literal, not a parameter: SQLite matches the partial index only on an identical predicate.
        .where('status', '=', sql.lit(OutboxStatus.Pending))
        .doUpdateSet((eb) => ({
          payload: eb.ref('excluded.payload'),
          updated_at: eb.ref('excluded.updated_at'),
          version: eb(eb.ref('outbox.version'), '+', 1),
          // A fresh change is tried promptly and counts its own attempts: the back-off belonged
          // to the older state's failures. An entry that has not failed keeps the earlier of its
          // time and the new one: a change joining a push that waits (a hot card settling) does
          // not put it off again, so a card changed without pause is still pushed.
          next_attempt_at: eb
            .case()
            .when(
              eb.and([
                eb('outbox.attempts', '=', 0),
                eb('outbox.next_attempt_at', '<', eb.ref('excluded.next_attempt_at')),
              ]),
            )
            .then(eb.ref('outbox.next_attempt_at'))
            .else(eb.ref('excluded.next_attempt_at'))
            .end(),
          attempts: 0,
        })),
    )
    .returningAll()
})

/**
 * Inserts an entry; with a collapse key, a still-pending entry with the same key takes the new
 * payload instead (last state wins), so a burst of changes to one card becomes one push.
 */
export async function upsert(db: Executor, row: NewOutboxRow): Promise<OutboxRow> {
  const { rows } = await insertEntry(db, row, row.collapse_key != null ? 'collapse' : 'insert')
  if (!rows[0]) {
    throw new Error(`outbox: no row returned for ${row.topic} ${row.collapse_key ?? row.id}`)
  }
  return rows[0]
}

/**
 * Leases up to `limit` due pending entries, and up to `limit` whose lease ran out (a worker died
 * mid-push: they are due again), to `workerId` until `leaseUntil`. On PostgreSQL several workers claim concurrently with
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
  // Two candidate lists, each read in `next_attempt_at` order from the outbox_due index and cut at
  // `limit`: one OR over both states made SQLite test every pending row and sort them all, ~20 ms
  // per poll with a backlog of 2,000 cards, holding the one connection every request waits for.
  const candidates = (state: 'pending' | 'expired') => {
    let due = db
      .selectFrom('outbox')
      .select('id')
      .where((eb) =>
        state === 'pending'
          ? eb.and([eb('status', '=', OutboxStatus.Pending), eb('next_attempt_at', '<=', args.now)])
          : // An expired entry that a newer pending one of its key supersedes is not due: taking
            // both would deliver one card twice side by side (issue 16). `supersedeExpired` finishes it.
            eb.and([
              eb('status', '=', OutboxStatus.Running),
              eb('locked_until', '<', args.now),
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('outbox as newer')
                    .select('newer.id')
                    .whereRef('newer.topic', '=', 'outbox.topic')
                    .whereRef('newer.collapse_key', '=', 'outbox.collapse_key')
                    .where('newer.status', '=', sql.lit(OutboxStatus.Pending)),
                ),
              ),
            ]),
      )
      // One delivery per collapse key at a time: a second worker pushing a newer state of the same
      // card could overtake the first, and Alipay would end up showing the older one.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('outbox as busy')
              .select('busy.id')
              .whereRef('busy.topic', '=', 'outbox.topic')
              .whereRef('busy.collapse_key', '=', 'outbox.collapse_key')
              .whereRef('busy.id', '<>', 'outbox.id')
              // A literal: SQLite uses the partial index outbox_running_collapse only then.
              .where('busy.status', '=', sql.lit(OutboxStatus.Running))
              .where('busy.locked_until', '>=', args.now),
          ),
        ),
      )
      // In order per order key: an entry waits for every earlier entry of its key to be done.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('outbox as earlier')
              .select('earlier.id')
              .whereRef('earlier.topic', '=', 'outbox.topic')
              .whereRef('earlier.order_key', '=', 'outbox.order_key')
              .whereRef('earlier.id', '<', 'outbox.id')
              .where('earlier.status', '<>', OutboxStatus.Done),
          ),
        ),
      )
      .orderBy(state === 'pending' ? 'next_attempt_at' : 'locked_until')
      .limit(args.limit)
    if (args.topics?.length) {
      due = due.where('topic', 'in', args.topics)
    }
    if (dialect === 'postgres') {
      due = due.forUpdate().skipLocked()
    }
    return due
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
    .where((eb) =>
      eb.or([eb('id', 'in', candidates('pending')), eb('id', 'in', candidates('expired'))]),
    )
    .returningAll()
    .execute()
}

/**
 * Finishes the entries whose worker died (lease expired) while a newer pending entry of the same
 * collapse key waits: that one carries the latest state, so delivering the old one too would only
 * push the card twice, and possibly land the older state last.
 */
export async function supersedeExpired(db: Executor, now: string): Promise<number> {
  const r = await db
    .updateTable('outbox')
    .set({
      status: OutboxStatus.Done,
      done_at: now,
      updated_at: now,
      locked_by: null,
      locked_until: null,
      last_error: 'superseded by a newer entry after its lease expired',
    })
    .where('status', '=', OutboxStatus.Running)
    .where('locked_until', '<', now)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('outbox as newer')
          .select('newer.id')
          .whereRef('newer.topic', '=', 'outbox.topic')
          .whereRef('newer.collapse_key', '=', 'outbox.collapse_key')
          .where('newer.status', '=', sql.lit(OutboxStatus.Pending)),
      ),
    )
    .executeTakeFirst()
  return Number(r.numUpdatedRows)
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

/** True when a pending entry with the same collapse key waits: it carries a newer state. */
async function hasPendingSibling(db: Executor, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('outbox as me')
    .innerJoin('outbox as sibling', (join) =>
      join
        .onRef('sibling.topic', '=', 'me.topic')
        .onRef('sibling.collapse_key', '=', 'me.collapse_key')
        .onRef('sibling.id', '<>', 'me.id'),
    )
    .select('sibling.id')
    .where('me.id', '=', id)
    .where('sibling.status', '=', sql.lit(OutboxStatus.Pending))
    .executeTakeFirst()
  return row !== undefined
}

/**
 * Puts an entry back for a later attempt, or parks it. An entry that a newer pending one with the
 * same collapse key supersedes is finished instead: the newer one delivers the latest state (and
 * two pending entries of one key cannot exist).
 */
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
  const superseded = next.status === OutboxStatus.Pending && (await hasPendingSibling(db, id))
  const r = await db
    .updateTable('outbox')
    .set({
      status: superseded ? OutboxStatus.Done : next.status,
      ...(superseded ? { done_at: next.now } : {}),
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

/**
 * Makes parked entries due now; returns how many. A parked entry whose collapse key already has a
 * pending entry is finished instead: that newer entry delivers the latest state.
 */
export async function unpark(
  db: Executor,
  ids: readonly string[] | 'all',
  now: string,
): Promise<number> {
  const some = ids !== 'all'
  const idList = some && ids.length ? ids : ['']
  await db
    .updateTable('outbox')
    .set({
      status: OutboxStatus.Done,
      done_at: now,
      updated_at: now,
      last_error: 'superseded by a newer entry',
    })
    .where('status', '=', OutboxStatus.Parked)
    .$if(some, (q) => q.where('id', 'in', idList))
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('outbox as newer')
          .select('newer.id')
          .whereRef('newer.topic', '=', 'outbox.topic')
          .whereRef('newer.collapse_key', '=', 'outbox.collapse_key')
          .where((eb) =>
            eb.or([
              eb('newer.status', '=', OutboxStatus.Pending),
              eb.and([
                eb('newer.status', '=', OutboxStatus.Parked),
                eb(eb.ref('newer.id'), '>', eb.ref('outbox.id')),
              ]),
            ]),
          ),
      ),
    )
    .execute()
  const r = await db
    .updateTable('outbox')
    .set({ status: OutboxStatus.Pending, next_attempt_at: now, attempts: 0, updated_at: now })
    .where('status', '=', OutboxStatus.Parked)
    .$if(some, (q) => q.where('id', 'in', idList))
    .executeTakeFirst()
  return Number(r.numUpdatedRows)
}

export async function countByStatus(
  db: Executor,
  merchantId?: string,
): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('outbox')
    .select(['status', sql<number>`count(*)`.as('n')])
    .$if(merchantId !== undefined, (q) => q.where('merchant_id', '=', merchantId!))
    .groupBy('status')
    .execute()
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
}

const SORT_COLUMN = {
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  attempts: 'attempts',
  nextAttemptAt: 'next_attempt_at',
} as const
export type OutboxSort = keyof typeof SORT_COLUMN

/** One page of the entries of a status (and merchant, topic) and how many match in all. */
export async function page(
  db: Executor,
  filter: { merchantId?: string; status: OutboxStatus; topic?: string },
  request: { sort: OutboxSort; order: 'asc' | 'desc'; offset: number; limit: number },
): Promise<{ rows: OutboxRow[]; total: number }> {
  const filtered = db
    .selectFrom('outbox')
    .where('status', '=', filter.status)
    .$if(filter.merchantId !== undefined, (q) => q.where('merchant_id', '=', filter.merchantId!))
    .$if(filter.topic !== undefined, (q) => q.where('topic', '=', filter.topic!))
  const rows = await filtered
    .selectAll()
    .orderBy(SORT_COLUMN[request.sort], request.order)
    .orderBy('id', request.order)
    .limit(request.limit)
    .offset(request.offset)
    .execute()
  const count = await filtered
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return { rows, total: Number(count.n) }
}

/** Undelivered entries by topic and status, with the oldest `created_at` of each group. */
export async function undeliveredByTopic(
  db: Executor,
): Promise<{ topic: string; status: string; n: number; oldest: string }[]> {
  const rows = await db
    .selectFrom('outbox')
    .select([
      'topic',
      'status',
      sql<number>`count(*)`.as('n'),
      sql<string>`min(created_at)`.as('oldest'),
    ])
    .where('status', 'in', ['pending', 'running', 'parked'])
    .groupBy(['topic', 'status'])
    .execute()
  return rows.map((r) => ({ ...r, n: Number(r.n) }))
}
