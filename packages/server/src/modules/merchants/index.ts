import type { Executor } from '../../db/db.js'
import type { Clock } from '../../shared/clock.js'
import * as repo from './merchants.repository.js'
import type { MerchantRow } from './merchants.table.js'

export type { MerchantsTable } from './merchants.table.js'

/** A merchant: one Alipay app, its templates, members and cards. An ISV runs several. */
export interface Merchant {
  id: string
  name: string
  isDefault: boolean
  createdAt: string
}

/** The id of the merchant every install starts with; a fixed id so that restarts and races agree. */
export const DEFAULT_MERCHANT_ID = 'mch_default'

function toMerchant(row: MerchantRow): Merchant {
  return { id: row.id, name: row.name, isDefault: row.is_default === 1, createdAt: row.created_at }
}

/** Creates the default merchant when it does not exist yet; returns it. */
export async function ensureDefaultMerchant(db: Executor, clock: Clock): Promise<Merchant> {
  const existing = await repo.findDefault(db)
  if (existing) return toMerchant(existing)
  const now = clock.nowIso()
  await repo.insertOnce(db, { id: DEFAULT_MERCHANT_ID, name: '默认商户', is_default: 1, created_at: now, updated_at: now })
  return toMerchant((await repo.findById(db, DEFAULT_MERCHANT_ID))!)
}

export async function listMerchants(db: Executor): Promise<Merchant[]> {
  return (await repo.list(db)).map(toMerchant)
}

export async function findMerchant(db: Executor, id: string): Promise<Merchant | undefined> {
  const row = await repo.findById(db, id)
  return row && toMerchant(row)
}
