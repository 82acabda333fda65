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
    .where('merchant_id', '=', merchantId)
    .where((eb) =>
      openId
        ? eb.or([
            eb('alipay_user_id', '=', alipayUserId),
            eb('alipay_open_id', '=', openId),
            eb('alipay_user_id', '=', openId),
          ])
        : eb('alipay_user_id', '=', alipayUserId),
    )
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
  mobileHash?: string
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
  if (by.mobileHash) {
    q = q.where('mobile_hash', '=', by.mobileHash)
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
