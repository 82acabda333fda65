import type { Insertable, Selectable } from 'kysely'

export interface CardsTable {
  id: string
  merchant_id: string
  member_id: string
  /** kaguan's template id. */
  template_id: string
  alipay_template_id: string
  alipay_user_id: string
  /** The CRM's (or kaguan's) card number: Alipay's external_card_no. */
  biz_card_no: string
  /** Alipay's card number: Alipay's biz_card_no. */
  alipay_card_no: string
  status: 'active' | 'deleted'
  out_string: string | null
  point: number
  level: string | null
  balance: string | null
  state_version: number
  pushed_version: number
  open_date: string
  valid_date: string
  deleted_at: string | null
  delete_reason: string | null
  created_at: string
  updated_at: string
}
export type CardRow = Selectable<CardsTable>

export interface ClaimsTable {
  id: string
  merchant_id: string
  request_id: string
  alipay_template_id: string
  out_string: string | null
  alipay_user_id: string | null
  status: 'started' | 'done' | 'failed'
  card_id: string | null
  error_code: string | null
  error_message: string | null
  /** Keyed hashes of the user's IP address and kaguan's device cookie (claim limits). */
  client_ip_hash: string | null
  device_hash: string | null
  /** 1 when this claim opened a new card, 0 when it gave back one the user held. */
  opened_card: number | null
  created_at: string
  updated_at: string
}
export type ClaimRow = Selectable<ClaimsTable>

/** An Alipay user an operator has blocked from claiming the merchant's cards. */
export interface ClaimBlocksTable {
  merchant_id: string
  alipay_user_id: string
  reason: string
  blocked_by: string
  created_at: string
}
export type ClaimBlockRow = Selectable<ClaimBlocksTable>

export interface PointEntriesTable {
  id: string
  merchant_id: string
  card_id: string
  delta: number
  point_after: number
  reason: string
  source: string
  idempotency_key: string
  created_at: string
}
export type PointEntryRow = Selectable<PointEntriesTable>

export interface DynamicCodesTable {
  code: string
  merchant_id: string
  card_id: string
  expires_at: string
  used_at: string | null
  created_at: string
}

/** One expiry moment of a card's points the worker has reminded about (POINT_REMIND), once. */
export interface PointRemindersTable {
  id: string
  merchant_id: string
  card_id: string
  expires_at: string
  amount: number
  created_at: string
}
export type NewPointReminderRow = Insertable<PointRemindersTable>
