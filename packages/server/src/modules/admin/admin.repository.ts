import type { Executor } from '../../db/db.js'
import type {
  AdminMembershipRow,
  AdminSessionRow,
  AdminUserPatch,
  AdminUserRow,
  NewAdminSessionRow,
  NewAdminUserRow,
} from './admin.table.js'

/** A unique-constraint violation on either engine (SQLite's code name, PostgreSQL's SQLSTATE). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505'
  )
}

export async function insertUser(db: Executor, row: NewAdminUserRow): Promise<void> {
  await db.insertInto('admin_users').values(row).execute()
}

export function findUserById(db: Executor, id: string): Promise<AdminUserRow | undefined> {
  return db.selectFrom('admin_users').selectAll().where('id', '=', id).executeTakeFirst()
}

export function findUserByUsername(
  db: Executor,
  username: string,
): Promise<AdminUserRow | undefined> {
  return db
    .selectFrom('admin_users')
    .selectAll()
    .where('username', '=', username)
    .executeTakeFirst()
}

export function listUsers(db: Executor): Promise<AdminUserRow[]> {
  return db.selectFrom('admin_users').selectAll().orderBy('username').execute()
}

export function updateUser(
  db: Executor,
  id: string,
  patch: AdminUserPatch,
): Promise<AdminUserRow | undefined> {
  return db
    .updateTable('admin_users')
    .set(patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}

/** Counts one more failed sign-in in a single statement (no read-modify-write race); returns the new count. */
export async function addFailedLogin(db: Executor, id: string, now: string): Promise<number> {
  const row = await db
    .updateTable('admin_users')
    .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .returning('failed_logins')
    .executeTakeFirst()
  return row?.failed_logins ?? 0
}

export async function countEnabledAdmins(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('admin_users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('scope', '=', 'platform')
    .where('disabled', '=', 0)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function insertMemberships(
  db: Executor,
  rows: readonly AdminMembershipRow[],
): Promise<void> {
  if (rows.length) {
    await db
      .insertInto('admin_memberships')
      .values([...rows])
      .execute()
  }
}

/** The memberships of one account, or of every account when `userId` is omitted. */
export function listMemberships(db: Executor, userId?: string): Promise<AdminMembershipRow[]> {
  let query = db.selectFrom('admin_memberships').selectAll()
  if (userId !== undefined) {
    query = query.where('user_id', '=', userId)
  }
  return query.orderBy('user_id').orderBy('merchant_id').execute()
}

/** Gives a merchant-scoped account one role at every merchant it is a member of. */
export async function setMembershipRoles(
  db: Executor,
  userId: string,
  role: AdminMembershipRow['role'],
): Promise<void> {
  await db.updateTable('admin_memberships').set({ role }).where('user_id', '=', userId).execute()
}

export async function insertSession(db: Executor, row: NewAdminSessionRow): Promise<void> {
  await db.insertInto('admin_sessions').values(row).execute()
}

export function findSessionWithUser(
  db: Executor,
  tokenHash: string,
): Promise<
  (AdminSessionRow & Pick<AdminUserRow, 'username' | 'role' | 'scope' | 'disabled'>) | undefined
> {
  return db
    .selectFrom('admin_sessions as s')
    .innerJoin('admin_users as u', 'u.id', 's.user_id')
    .selectAll('s')
    .select(['u.username', 'u.role', 'u.scope', 'u.disabled'])
    .where('s.token_hash', '=', tokenHash)
    .executeTakeFirst()
}

export async function touchSession(
  db: Executor,
  id: string,
  lastSeenAt: string,
  expiresAt: string,
): Promise<void> {
  await db
    .updateTable('admin_sessions')
    .set({ last_seen_at: lastSeenAt, expires_at: expiresAt })
    .where('id', '=', id)
    .execute()
}

export async function deleteSessionByTokenHash(db: Executor, tokenHash: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('token_hash', '=', tokenHash).execute()
}

export async function deleteSessionById(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('id', '=', id).execute()
}

/** Ends every session of a user; returns how many there were. */
export async function deleteSessionsOfUser(db: Executor, userId: string): Promise<number> {
  const rows = await db
    .deleteFrom('admin_sessions')
    .where('user_id', '=', userId)
    .returning('id')
    .execute()
  return rows.length
}

/** Ends every session of the user but one (the one changing its own password stays signed in). */
export async function deleteOtherSessionsOfUser(
  db: Executor,
  userId: string,
  keepSessionId: string,
): Promise<number> {
  const rows = await db
    .deleteFrom('admin_sessions')
    .where('user_id', '=', userId)
    .where('id', '!=', keepSessionId)
    .returning('id')
    .execute()
  return rows.length
}

export async function deleteExpiredSessions(db: Executor, now: string): Promise<number> {
  const rows = await db
    .deleteFrom('admin_sessions')
    .where('expires_at', '<=', now)
    .returning('id')
    .execute()
  return rows.length
}

export function countSessionsOfUser(db: Executor, userId: string): Promise<number> {
  return db
    .selectFrom('admin_sessions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow()
    .then((r) => Number(r.n))
}

/** Runs `fn` in a transaction, or inside the caller's when `db` already is one. */
export function inTransaction<T>(db: Executor, fn: (tx: Executor) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn)
}
