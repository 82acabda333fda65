import type { Executor } from '../../db/db.js'
import { prepared } from '../../db/prepared.js'
import { crmPolicies } from './crm-policy-cache.js'
import type { MerchantRow, MerchantUpdate, NewMerchantRow } from './merchants.table.js'

export function findDefault(db: Executor): Promise<MerchantRow | undefined> {
  return db.selectFrom('merchants').selectAll().where('is_default', '=', 1).executeTakeFirst()
}

// Read for every push and every claim: compiled once (db/prepared.ts).
const byId = prepared((db, v: { id: string }) =>
  db.selectFrom('merchants').selectAll().where('id', '=', v.id),
)

export async function findById(db: Executor, id: string): Promise<MerchantRow | undefined> {
  return (await byId(db, { id })).rows[0]
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
  // Before and after: a cached CRM policy read between the two (the write not yet committed) is
  // dropped too; one still racing the commit lives at most CRM_POLICY_TTL_MS.
  crmPolicies.invalidate()
  await db.updateTable('merchants').set(changes).where('id', '=', id).execute()
  crmPolicies.invalidate()
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

/** Merchants whose Alipay app is in certificate mode. */
export function listCertMode(db: Executor): Promise<MerchantRow[]> {
  return db
    .selectFrom('merchants')
    .selectAll()
    .where('alipay_sign_mode', '=', 'cert')
    .orderBy('id')
    .execute()
}

/** Merchants whose messages come over the long connection. */
export function listByMessageChannel(db: Executor, channel: 'http' | 'websocket') {
  return db
    .selectFrom('merchants')
    .selectAll()
    .where('message_channel', '=', channel)
    .orderBy('id')
    .execute()
}

/** Cert-mode merchants and the earliest expiry of their certificates (kept in clear for this). */
export function certExpiries(
  db: Executor,
): Promise<{ id: string; alipay_cert_expires_at: string | null }[]> {
  return db
    .selectFrom('merchants')
    .select(['id', 'alipay_cert_expires_at'])
    .where('alipay_sign_mode', '=', 'cert')
    .orderBy('id')
    .execute()
}

/**
 * Takes (or renews) the long-connection lease of a merchant for `by` unless another holder's lease
 * is still running; true when `by` holds it now.
 */
export async function takeChannelLease(
  db: Executor,
  id: string,
  lease: { by: string; until: string; now: string },
): Promise<boolean> {
  const result = await db
    .updateTable('merchants')
    .set({ message_channel_lease_by: lease.by, message_channel_lease_until: lease.until })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('message_channel_lease_by', 'is', null),
        eb('message_channel_lease_by', '=', lease.by),
        eb('message_channel_lease_until', '<', lease.now),
      ]),
    )
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function releaseChannelLease(db: Executor, id: string, by: string): Promise<void> {
  await db
    .updateTable('merchants')
    .set({ message_channel_lease_by: null, message_channel_lease_until: null })
    .where('id', '=', id)
    .where('message_channel_lease_by', '=', by)
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
  | 'alipay_app_cert_enc'
  | 'alipay_public_cert_enc'
  | 'alipay_root_cert_enc'

const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  'alipay_private_key_enc',
  'alipay_private_key_next_enc',
  'alipay_app_auth_token_enc',
  'crm_token_enc',
  'crm_token_next_enc',
  'alipay_app_cert_enc',
  'alipay_public_cert_enc',
  'alipay_root_cert_enc',
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
