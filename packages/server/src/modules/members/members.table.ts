import type { Selectable } from 'kysely'

export interface MembersTable {
  id: string
  merchant_id: string
  /** The user's identity in the app: a 2088… user_id, or an open_id (see cards.table.ts). */
  alipay_user_id: string
  alipay_open_id: string | null
  biz_card_no: string
  source: 'kaguan' | 'crm'
  status: 'pending' | 'active'
  name_enc: string | null
  mobile_enc: string | null
  mobile_hash: string | null
  cert_no_enc: string | null
  cert_no_hash: string | null
  gender: string | null
  birthday: string | null
  /** The member's own data key, wrapped by the master key; null once erased (crypto-shredding). */
  data_key_enc: string | null
  /** When the member's personal data was erased on request. */
  erased_at: string | null
  created_at: string
  updated_at: string
}
export type MemberRow = Selectable<MembersTable>

export interface MerchantCountersTable {
  merchant_id: string
  name: string
  value: number
}
