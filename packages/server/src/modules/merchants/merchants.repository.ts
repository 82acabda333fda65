import type { Executor } from '../../db/db.js'
import type { MerchantRow, MerchantUpdate, NewMerchantRow } from './merchants.table.js'

export function findDefault(db: Executor): Promise<MerchantRow | undefined> {
  return db.selectFrom('merchants').selectAll().where('is_default', '=', 1).executeTakeFirst()
}

export function findById(db: Executor, id: string): Promise<MerchantRow | undefined> {
  return db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst()
}

export function list(db: Executor): Promise<MerchantRow[]> {
  return db.selectFrom('merchants').selectAll().orderBy('created_at').orderBy('id').execute()
}

/** Inserts unless the id exists (two processes starting at once both try). */
export async function insertOnce(db: Executor, row: NewMerchantRow): Promise<void> {
  await db
    .insertInto('merchants')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute()
}

export async function update(db: Executor, id: string, changes: MerchantUpdate): Promise<void> {
  await db.updateTable('merchants').set(changes).where('id', '=', id).execute()
}

/** Every merchant configured with this Alipay app: one, or several served by one ISV app. */
export function findByAppId(db: Executor, appId: string): Promise<MerchantRow[]> {
  return db
    .selectFrom('merchants')
    .selectAll()
    .where('alipay_app_id', '=', appId)
    .orderBy('id')
    .limit(2)
    .execute()
}

/** Records, once, when the CRM first accepted the next token. */
export async function markNextTokenSeen(db: Executor, id: string, at: string): Promise<void> {
  await db
    .updateTable('merchants')
    .set({ crm_token_next_seen_at: at })
    .where('id', '=', id)
    .where('crm_token_next_enc', 'is not', null)
    .where('crm_token_next_seen_at', 'is', null)
    .execute()
}

type EncryptedColumn =
  | 'alipay_private_key_enc'
  | 'alipay_private_key_next_enc'
  | 'alipay_app_auth_token_enc'
  | 'crm_token_enc'
  | 'crm_token_next_enc'

const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  'alipay_private_key_enc',
  'alipay_private_key_next_enc',
  'alipay_app_auth_token_enc',
  'crm_token_enc',
  'crm_token_next_enc',
]

/** The encrypted columns of the merchants after `after` (id order): a master-key rotation's batch. */
export function encryptedAfter(
  db: Executor,
  after: string | null,
  limit: number,
): Promise<(Pick<MerchantRow, EncryptedColumn> & { id: string })[]> {
  let q = db.selectFrom('merchants').select(['id', ...ENCRYPTED_COLUMNS])
  if (after !== null) {
    q = q.where('id', '>', after)
  }
  return q.orderBy('id').limit(limit).execute()
}

/**
 * Replaces a merchant's encrypted columns only if none changed since they were read (a change made
 * meanwhile was written under the current key already); true when replaced.
 */
export async function replaceEncrypted(
  db: Executor,
  read: Pick<MerchantRow, EncryptedColumn> & { id: string },
  changes: Partial<Record<EncryptedColumn, string>>,
): Promise<boolean> {
  let q = db.updateTable('merchants').set(changes).where('id', '=', read.id)
  for (const column of ENCRYPTED_COLUMNS) {
    const value = read[column]
    q = value === null ? q.where(column, 'is', null) : q.where(column, '=', value)
  }
  const result = await q.executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function countAll(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('merchants')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** How many merchants hold a value in `columns` not under the given master key. */
export async function countNotUnderKey(
  db: Executor,
  columns: readonly EncryptedColumn[],
  keyId: string,
): Promise<number> {
  const prefix = `v2.${keyId}.%`
  const row = await db
    .selectFrom('merchants')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) =>
      eb.or(columns.map((c) => eb.and([eb(c, 'is not', null), eb(c, 'not like', prefix)]))),
    )
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
