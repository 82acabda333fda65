import { sql } from 'kysely'
import type { DatabaseDialect } from '../../config.js'
import type { Executor } from '../../db/db.js'
import type {
  NewStampActivityRow,
  NewStampEntryRow,
  NewStampHoldRow,
  NewStampReminderRow,
  StampAccountRow,
  StampActivityPatch,
  StampActivityRow,
  StampEntryRow,
  StampHoldRow,
  StampHoldStatus,
} from './stamps.table.js'

/** A unique-constraint violation on either engine (SQLite's code name, PostgreSQL's SQLSTATE). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505'
  )
}

// --- activities ---

export async function insertActivity(db: Executor, row: NewStampActivityRow): Promise<void> {
  await db.insertInto('stamp_activities').values(row).execute()
}

export function findActivity(db: Executor, id: string): Promise<StampActivityRow | undefined> {
  return db.selectFrom('stamp_activities').selectAll().where('id', '=', id).executeTakeFirst()
}

export function listActivities(
  db: Executor,
  merchantId: string,
  filter: { status?: string; type?: string } = {},
): Promise<StampActivityRow[]> {
  let q = db.selectFrom('stamp_activities').selectAll().where('merchant_id', '=', merchantId)
  if (filter.status) {
    q = q.where('status', '=', filter.status as StampActivityRow['status'])
  }
  if (filter.type) {
    q = q.where('type', '=', filter.type as StampActivityRow['type'])
  }
  return q.orderBy('id').execute()
}

/** Every merchant's stamp activities whose stamps may still expire (published or ended). */
export function listLiveStampActivities(db: Executor): Promise<StampActivityRow[]> {
  return db
    .selectFrom('stamp_activities')
    .selectAll()
    .where('type', '=', 'POINT_SEND')
    .where('status', 'in', ['published', 'ended'])
    .orderBy('id')
    .execute()
}

/** Updates an activity only while it is in one of `from` (a lifecycle step taken once). */
export function updateActivity(
  db: Executor,
  id: string,
  patch: StampActivityPatch,
  from?: StampActivityRow['status'][],
): Promise<StampActivityRow | undefined> {
  let q = db.updateTable('stamp_activities').set(patch).where('id', '=', id)
  if (from?.length) {
    q = q.where('status', 'in', from)
  }
  return q.returningAll().executeTakeFirst()
}

// --- accounts ---

/** The account of (merchant, member, activity), made empty when there is none yet; its id. */
export async function ensureAccount(
  db: Executor,
  row: { id: string; merchantId: string; memberId: string; activityId: string; now: string },
): Promise<string> {
  await db
    .insertInto('stamp_accounts')
    .values({
      id: row.id,
      merchant_id: row.merchantId,
      member_id: row.memberId,
      activity_id: row.activityId,
      available: 0,
      frozen: 0,
      earned: 0,
      last_seq: 0,
      created_at: row.now,
      updated_at: row.now,
    })
    .onConflict((oc) => oc.columns(['merchant_id', 'member_id', 'activity_id']).doNothing())
    .execute()
  const found = await findAccountOf(db, row.merchantId, row.memberId, row.activityId)
  return found!.id
}

export function findAccountOf(
  db: Executor,
  merchantId: string,
  memberId: string,
  activityId: string,
): Promise<StampAccountRow | undefined> {
  return db
    .selectFrom('stamp_accounts')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('member_id', '=', memberId)
    .where('activity_id', '=', activityId)
    .executeTakeFirst()
}

export function findAccount(db: Executor, id: string): Promise<StampAccountRow | undefined> {
  return db.selectFrom('stamp_accounts').selectAll().where('id', '=', id).executeTakeFirst()
}

/**
 * Reads the account row and keeps it ours until the transaction ends: on PostgreSQL with
 * `for update`; SQLite runs one write transaction at a time, so the read alone is enough there.
 */
export function lockAccount(
  db: Executor,
  dialect: DatabaseDialect,
  id: string,
): Promise<StampAccountRow | undefined> {
  const q = db.selectFrom('stamp_accounts').selectAll().where('id', '=', id)
  return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst()
}

export async function setBalances(
  db: Executor,
  id: string,
  balances: { available: number; frozen: number; earned: number; last_seq: number },
  now: string,
): Promise<void> {
  await db
    .updateTable('stamp_accounts')
    .set({ ...balances, updated_at: now })
    .where('id', '=', id)
    .execute()
}

export function listAccounts(
  db: Executor,
  merchantId: string,
  filter: { activityId?: string; memberId?: string },
  limit: number,
): Promise<StampAccountRow[]> {
  let q = db.selectFrom('stamp_accounts').selectAll().where('merchant_id', '=', merchantId)
  if (filter.activityId) {
    q = q.where('activity_id', '=', filter.activityId)
  }
  if (filter.memberId) {
    q = q.where('member_id', '=', filter.memberId)
  }
  return q.orderBy('id').limit(limit).execute()
}

// --- entries ---

export async function insertEntry(db: Executor, row: NewStampEntryRow): Promise<void> {
  await db.insertInto('stamp_entries').values(row).execute()
}

export function findEntryByKey(
  db: Executor,
  merchantId: string,
  idempotencyKey: string,
): Promise<StampEntryRow | undefined> {
  return db
    .selectFrom('stamp_entries')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst()
}

export function findEntry(db: Executor, id: string): Promise<StampEntryRow | undefined> {
  return db.selectFrom('stamp_entries').selectAll().where('id', '=', id).executeTakeFirst()
}

export function listEntries(
  db: Executor,
  accountId: string,
  limit: number,
): Promise<StampEntryRow[]> {
  return db
    .selectFrom('stamp_entries')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('seq')
    .limit(limit)
    .execute()
}

/** The entries recorded for one trade number (its earning and any refund). */
export function entriesForBizNo(
  db: Executor,
  merchantId: string,
  bizNo: string,
): Promise<StampEntryRow[]> {
  return db
    .selectFrom('stamp_entries')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('biz_no', '=', bizNo)
    .orderBy('id')
    .execute()
}

/** Stamps an account earned from trades since `since`, for the per-day cap of the earning rule. */
export async function sumTradeDepositsSince(
  db: Executor,
  accountId: string,
  since: string,
): Promise<number> {
  const row = await db
    .selectFrom('stamp_entries')
    .select((eb) => eb.fn.sum<number>('amount').as('n'))
    .where('account_id', '=', accountId)
    .where('type', '=', 'DEPOSIT')
    .where('source', 'in', ['trade', 'till'])
    .where('created_at', '>=', since)
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

// --- holds ---

export async function insertHold(db: Executor, row: NewStampHoldRow): Promise<void> {
  await db.insertInto('stamp_holds').values(row).execute()
}

export function findHold(db: Executor, id: string): Promise<StampHoldRow | undefined> {
  return db.selectFrom('stamp_holds').selectAll().where('id', '=', id).executeTakeFirst()
}

export function findHoldByFreeze(
  db: Executor,
  freezeEntryId: string,
): Promise<StampHoldRow | undefined> {
  return db
    .selectFrom('stamp_holds')
    .selectAll()
    .where('freeze_entry_id', '=', freezeEntryId)
    .executeTakeFirst()
}

export function findHoldByOutBizNo(
  db: Executor,
  merchantId: string,
  outBizNo: string,
): Promise<StampHoldRow | undefined> {
  return db
    .selectFrom('stamp_holds')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('out_biz_no', '=', outBizNo)
    .executeTakeFirst()
}

/** Remembers Koubei's number of a hold's mirrored FREEZE. */
export async function setHoldKoubeiLogNo(db: Executor, id: string, logNo: string): Promise<void> {
  await db.updateTable('stamp_holds').set({ koubei_log_no: logNo }).where('id', '=', id).execute()
}

/** Resolves a hold that is still held; undefined when another resolution got there first. */
export function resolveHold(
  db: Executor,
  id: string,
  change: { status: Exclude<StampHoldStatus, 'held'>; entryId: string; now: string },
): Promise<StampHoldRow | undefined> {
  return db
    .updateTable('stamp_holds')
    .set({ status: change.status, resolved_entry_id: change.entryId, resolved_at: change.now })
    .where('id', '=', id)
    .where('status', '=', 'held')
    .returningAll()
    .executeTakeFirst()
}

/** Holds still held past their time to live, oldest first. */
export function listExpiredHolds(
  db: Executor,
  now: string,
  limit: number,
): Promise<StampHoldRow[]> {
  return db
    .selectFrom('stamp_holds')
    .selectAll()
    .where('status', '=', 'held')
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute()
}

export function listHolds(db: Executor, accountId: string, limit: number): Promise<StampHoldRow[]> {
  return db
    .selectFrom('stamp_holds')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('id')
    .limit(limit)
    .execute()
}

// --- expiry ---

/**
 * What expiry needs of an account: the stamps deposited before `earnedBefore`, and everything that
 * ever left it for good (CONSUME, including earlier expiries, and COMMIT). Stamps leave oldest
 * first, so `deposited - spent - frozen` of them are still there and past their time.
 */
export async function expiryTotals(
  db: Executor,
  accountId: string,
  earnedBefore: string,
): Promise<{ deposited: number; spent: number }> {
  const row = await db
    .selectFrom('stamp_entries')
    .select((eb) => [
      eb.fn
        .sum<number>(
          eb
            .case()
            .when(eb.and([eb('type', '=', 'DEPOSIT'), eb('created_at', '<', earnedBefore)]))
            .then(eb.ref('amount'))
            .else(0)
            .end(),
        )
        .as('deposited'),
      eb.fn
        .sum<number>(
          eb.case().when('type', 'in', ['CONSUME', 'COMMIT']).then(eb.ref('amount')).else(0).end(),
        )
        .as('spent'),
    ])
    .where('account_id', '=', accountId)
    .executeTakeFirst()
  return { deposited: Number(row?.deposited ?? 0), spent: Number(row?.spent ?? 0) }
}

/** `deposited before earnedBefore − spent − frozen` of an account row, in SQL. */
function dueStamps(earnedBefore: string) {
  return sql<number>`(select coalesce(sum(d.amount), 0) from stamp_entries d
      where d.account_id = stamp_accounts.id and d.type = 'DEPOSIT' and d.created_at < ${earnedBefore})
    - (select coalesce(sum(s.amount), 0) from stamp_entries s
      where s.account_id = stamp_accounts.id and s.type in ('CONSUME', 'COMMIT'))
    - stamp_accounts.frozen`
}

/** Accounts of an activity that hold stamps earned before `earnedBefore` and not yet spent. */
export function accountsWithStampsDue(
  db: Executor,
  activityId: string,
  earnedBefore: string,
  limit: number,
): Promise<StampAccountRow[]> {
  return db
    .selectFrom('stamp_accounts')
    .selectAll()
    .where('activity_id', '=', activityId)
    .where('available', '>', 0)
    .where(sql<boolean>`${dueStamps(earnedBefore)} > 0`)
    .orderBy('id')
    .limit(limit)
    .execute()
}

/**
 * Accounts of an activity with stamps that expire by the moment `expiresAt` (earned before
 * `earnedBefore`) and that the worker has not looked at for that moment yet.
 */
export function accountsToRemind(
  db: Executor,
  activityId: string,
  earnedBefore: string,
  expiresAt: string,
  limit: number,
): Promise<StampAccountRow[]> {
  return db
    .selectFrom('stamp_accounts')
    .selectAll()
    .where('activity_id', '=', activityId)
    .where('available', '>', 0)
    .where(sql<boolean>`${dueStamps(earnedBefore)} > 0`)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('stamp_reminders')
            .select('stamp_reminders.id')
            .whereRef('stamp_reminders.account_id', '=', 'stamp_accounts.id')
            .where('stamp_reminders.expires_at', '=', expiresAt),
        ),
      ),
    )
    .orderBy('id')
    .limit(limit)
    .execute()
}

/** Records that an account was reminded of one expiry moment; false when it already was. */
export async function insertReminder(db: Executor, row: NewStampReminderRow): Promise<boolean> {
  const inserted = await db
    .insertInto('stamp_reminders')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'expires_at']).doNothing())
    .returning('id')
    .executeTakeFirst()
  return inserted !== undefined
}
