import type { Executor } from '../../db/db.js'
import type { MemberRow } from './members.table.js'

/** The member of a user: by the key, or by the open_id stored beside an older user_id key. */
export function findByUser(
  db: Executor,
  merchantId: string,
  alipayUserId: string,
  openId?: string,
): Promise<MemberRow | undefined> {
  return db
    .selectFrom('members')
    .selectAll()
    .where((eb) => {
      // merchant_id inside each alternative and not outside the OR: an index then serves each
      // (SQLite's OR-by-union); with it outside too, SQLite walks every member of the merchant.
      const by = (column: 'alipay_user_id' | 'alipay_open_id', value: string) =>
        eb.and([eb('merchant_id', '=', merchantId), eb(column, '=', value)])
      return openId
        ? eb.or([
            by('alipay_user_id', alipayUserId),
            by('alipay_open_id', openId),
            by('alipay_user_id', openId),
          ])
        : by('alipay_user_id', alipayUserId)
    })
    .orderBy('created_at')
    .executeTakeFirst()
}

export function findById(db: Executor, id: string): Promise<MemberRow | undefined> {
  return db.selectFrom('members').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Inserts unless the merchant already has a member for this Alipay user; true when inserted. */
export async function insertOnce(db: Executor, row: MemberRow): Promise<boolean> {
  const r = await db
    .insertInto('members')
    .values(row)
    .onConflict((oc) => oc.columns(['merchant_id', 'alipay_user_id']).doNothing())
    .returning('id')
    .executeTakeFirst()
  return r !== undefined
}

export async function update(db: Executor, id: string, changes: Partial<MemberRow>): Promise<void> {
  await db.updateTable('members').set(changes).where('id', '=', id).execute()
}

/** The next value of a per-merchant counter, atomically (a single conditional statement). */
export async function nextCounter(db: Executor, merchantId: string, name: string): Promise<number> {
  await db
    .insertInto('merchant_counters')
    .values({ merchant_id: merchantId, name, value: 0 })
    .onConflict((oc) => oc.columns(['merchant_id', 'name']).doNothing())
    .execute()
  const row = await db
    .updateTable('merchant_counters')
    .set((eb) => ({ value: eb(eb.ref('value'), '+', 1) }))
    .where('merchant_id', '=', merchantId)
    .where('name', '=', name)
    .returning('value')
    .executeTakeFirstOrThrow()
  return Number(row.value)
}

/** What a member list can be narrowed by; all given conditions hold together. */
export interface MemberRowFilter {
  /** The number's hash under each master key in use (a rotation may be half done). */
  mobileHashes?: readonly string[]
  bizCardNo?: string
  alipayUserId?: string
  memberIds?: readonly string[]
}

const SORT_COLUMN = { createdAt: 'created_at', bizCardNo: 'biz_card_no' } as const

function filtered(db: Executor, merchantId: string, by: MemberRowFilter) {
  let q = db
    .selectFrom('members')
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'active')
  if (by.mobileHashes?.length) {
    q = q.where('mobile_hash', 'in', [...by.mobileHashes])
  }
  if (by.bizCardNo) {
    q = q.where('biz_card_no', '=', by.bizCardNo)
  }
  if (by.alipayUserId) {
    q = q.where('alipay_user_id', '=', by.alipayUserId)
  }
  if (by.memberIds) {
    q = q.where('id', 'in', by.memberIds.length ? [...by.memberIds] : [''])
  }
  return q
}

/** One page of the merchant's members and how many match in all. */
export async function page(
  db: Executor,
  merchantId: string,
  by: MemberRowFilter,
  request: {
    sort: keyof typeof SORT_COLUMN
    order: 'asc' | 'desc'
    offset: number
    limit: number
  },
): Promise<{ rows: MemberRow[]; total: number }> {
  const rows = await filtered(db, merchantId, by)
    .selectAll()
    .orderBy(SORT_COLUMN[request.sort], request.order)
    // Ties (one import, one second) keep a stable order across pages.
    .orderBy('id', request.order)
    .limit(request.limit)
    .offset(request.offset)
    .execute()
  const count = await filtered(db, merchantId, by)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return { rows, total: Number(count.n) }
}

/** The encrypted columns of the members after `after` (id order): a master-key rotation's batch. */
export function encryptedAfter(
  db: Executor,
  after: string | null,
  limit: number,
): Promise<
  Pick<
    MemberRow,
    | 'id'
    | 'data_key_enc'
    | 'name_enc'
    | 'mobile_enc'
    | 'mobile_hash'
    | 'cert_no_enc'
    | 'cert_no_hash'
  >[]
> {
  let q = db
    .selectFrom('members')
    .select([
      'id',
      'data_key_enc',
      'name_enc',
      'mobile_enc',
      'mobile_hash',
      'cert_no_enc',
      'cert_no_hash',
    ])
  if (after !== null) {
    q = q.where('id', '>', after)
  }
  return q.orderBy('id').limit(limit).execute()
}

/**
 * Replaces a member's encrypted columns only if they still hold what was read (a concurrent
 * change wrote them under the current key already); true when replaced.
 */
export async function replaceEncrypted(
  db: Executor,
  id: string,
  read: Pick<MemberRow, 'data_key_enc' | 'name_enc' | 'mobile_enc' | 'cert_no_enc'>,
  changes: Partial<
    Pick<
      MemberRow,
      'data_key_enc' | 'name_enc' | 'mobile_enc' | 'mobile_hash' | 'cert_no_enc' | 'cert_no_hash'
    >
  >,
): Promise<boolean> {
  let q = db.updateTable('members').set(changes).where('id', '=', id)
  for (const column of ['data_key_enc', 'name_enc', 'mobile_enc', 'cert_no_enc'] as const) {
    const value = read[column]
    q = value === null ? q.where(column, 'is', null) : q.where(column, '=', value)
  }
  const result = await q.executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/**
 * How many members are not under the given master key: their data key wrapped under another, or
 * (members stored before data keys) a personal field encrypted under another.
 */
export async function countNotUnderKey(db: Executor, keyId: string): Promise<number> {
  const prefix = `v2.${keyId}.%`
  const row = await db
    .selectFrom('members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) =>
      eb.or([
        eb.and([eb('data_key_enc', 'is not', null), eb('data_key_enc', 'not like', prefix)]),
        eb.and([
          eb('data_key_enc', 'is', null),
          eb.or(
            (['name_enc', 'mobile_enc', 'cert_no_enc'] as const).map((c) =>
              eb.and([eb(c, 'is not', null), eb(c, 'not like', prefix)]),
            ),
          ),
        ]),
      ]),
    )
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** How many members there are (a rotation's progress bar). */
export async function countAll(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
