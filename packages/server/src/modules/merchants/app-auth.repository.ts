import type { Executor } from '../../db/db.js'
import type { AppAuthRow, AppAuthUpdate, NewAppAuthRow } from './app-auth.table.js'

export function findAppAuth(db: Executor, merchantId: string): Promise<AppAuthRow | undefined> {
  return db
    .selectFrom('merchant_app_auths')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst()
}

export function findAppAuthByState(
  db: Executor,
  stateHash: string,
): Promise<AppAuthRow | undefined> {
  return db
    .selectFrom('merchant_app_auths')
    .selectAll()
    .where('state_hash', '=', stateHash)
    .executeTakeFirst()
}

/** The merchants an Alipay app authorised (normally one; the console warns about more). */
export function findAppAuthsByAuthApp(db: Executor, authAppId: string): Promise<AppAuthRow[]> {
  return db
    .selectFrom('merchant_app_auths')
    .selectAll()
    .where('auth_app_id', '=', authAppId)
    .orderBy('merchant_id')
    .execute()
}

export function listAppAuths(db: Executor): Promise<AppAuthRow[]> {
  return db
    .selectFrom('merchant_app_auths')
    .selectAll()
    .orderBy('created_at')
    .orderBy('merchant_id')
    .execute()
}

/** Authorised grants whose token expires before `before`, soonest first. */
export function findDueForRefresh(
  db: Executor,
  before: string,
  limit: number,
): Promise<AppAuthRow[]> {
  return db
    .selectFrom('merchant_app_auths')
    .selectAll()
    .where('status', '=', 'authorised')
    .where('token_expires_at', '<', before)
    .orderBy('token_expires_at')
    .limit(limit)
    .execute()
}

export async function insertAppAuth(db: Executor, row: NewAppAuthRow): Promise<void> {
  await db.insertInto('merchant_app_auths').values(row).execute()
}

export async function updateAppAuth(
  db: Executor,
  merchantId: string,
  changes: AppAuthUpdate,
): Promise<void> {
  await db
    .updateTable('merchant_app_auths')
    .set(changes)
    .where('merchant_id', '=', merchantId)
    .execute()
}

/**
 * Replaces the tokens only when the refresh token is still the one the caller read: two workers
 * refreshing at once cannot overwrite a newer token with an older one. Answers whether it did.
 */
export async function swapTokens(
  db: Executor,
  merchantId: string,
  expectedRefreshEnc: string,
  changes: AppAuthUpdate,
): Promise<boolean> {
  const result = await db
    .updateTable('merchant_app_auths')
    .set(changes)
    .where('merchant_id', '=', merchantId)
    .where('refresh_token_enc', '=', expectedRefreshEnc)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
