import type { Executor } from '../../db/db.js'
import type { ShopRow } from './shops.table.js'

export function listByMerchant(db: Executor, merchantId: string): Promise<ShopRow[]> {
  return db
    .selectFrom('shops')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
}

export function findByIds(
  db: Executor,
  merchantId: string,
  ids: readonly string[],
): Promise<ShopRow[]> {
  if (!ids.length) {
    return Promise.resolve([])
  }
  return db
    .selectFrom('shops')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('id', 'in', ids)
    .execute()
}

export async function insert(db: Executor, row: ShopRow): Promise<void> {
  await db.insertInto('shops').values(row).execute()
}

export async function update(
  db: Executor,
  merchantId: string,
  id: string,
  changes: Partial<ShopRow>,
): Promise<boolean> {
  const r = await db
    .updateTable('shops')
    .set(changes)
    .where('merchant_id', '=', merchantId)
    .where('id', '=', id)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function remove(db: Executor, merchantId: string, id: string): Promise<boolean> {
  const r = await db
    .deleteFrom('shops')
    .where('merchant_id', '=', merchantId)
    .where('id', '=', id)
    .executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}
