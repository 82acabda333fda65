import type { Selectable } from 'kysely'

export interface MerchantsTable {
  id: string
  name: string
  /** 1 for the merchant a single-merchant install uses without naming it. */
  is_default: number
  created_at: string
  updated_at: string
}
export type MerchantRow = Selectable<MerchantsTable>
