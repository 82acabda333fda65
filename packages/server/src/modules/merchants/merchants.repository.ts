import type { Executor } from '../../db/db.js'
import type { MerchantRow } from './merchants.table.js'

export function findDefault(db: Executor): Promise<MerchantRow | undefined> {
  return db.selectFrom('merchants').selectAll().where('is_default', '=', 1).executeTakeFirst()
}

export function findById(db: Executor, id: string): Promise<MerchantRow | undefined> {
  return db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst()
}

export function list(db: Executor): Promise<MerchantRow[]> {
  return db.selectFrom('merchants').selectAll().orderBy('created_at').execute()
}

/** Inserts unless the id exists (two processes starting at once both try). */
export async function insertOnce(db: Executor, row: MerchantRow): Promise<void> {
  await db.insertInto('merchants').values(row).onConflict((oc) => oc.column('id').doNothing()).execute()
}
