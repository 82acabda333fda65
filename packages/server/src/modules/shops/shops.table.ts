import type { Selectable } from 'kysely'

export interface ShopsTable {
  id: string
  merchant_id: string
  name: string
  address: string
  latitude: number
  longitude: number
  /** Alipay's shop id (门店ID); only shops with one can be listed on an Alipay template. */
  alipay_shop_id: string | null
  phone: string | null
  created_at: string
  updated_at: string
}
export type ShopRow = Selectable<ShopsTable>
