import type { Insertable, Selectable, Updateable } from 'kysely'

export type StampActivityType = 'POINT_SEND' | 'DIRECT_SEND'
export type StampActivityStatus = 'draft' | 'published' | 'ended'

export interface StampActivitiesTable {
  id: string
  merchant_id: string
  type: StampActivityType
  status: StampActivityStatus
  name: string
  /** The activity's settings as the admin API took them (JSON); see stamps.service.ts. */
  spec_json: string
  /** DIRECT_SEND: the POINT_SEND activity whose stamps pay for its vouchers. */
  stamp_activity_id: string | null
  /** How long an exchange's FREEZE waits for the coupon notification before it is cancelled. */
  hold_ttl_seconds: number
  alipay_camp_id: string | null
  /** POINT_SEND mirrored to Koubei: its point account (`activity_account`) there. */
  koubei_account: string | null
  alipay_item_id: string | null
  coupon_url: string | null
  created_at: string
  updated_at: string
  published_at: string | null
  ended_at: string | null
}
export type StampActivityRow = Selectable<StampActivitiesTable>
export type NewStampActivityRow = Insertable<StampActivitiesTable>
export type StampActivityPatch = Updateable<StampActivitiesTable>

export interface StampAccountsTable {
  id: string
  merchant_id: string
  member_id: string
  activity_id: string
  available: number
  frozen: number
  earned: number
  last_seq: number
  created_at: string
  updated_at: string
}
export type StampAccountRow = Selectable<StampAccountsTable>

export type StampEntryType = 'DEPOSIT' | 'CONSUME' | 'FREEZE' | 'COMMIT' | 'CANCEL'
export type StampSource = 'trade' | 'till' | 'exchange' | 'admin' | 'expiry'

export interface StampEntriesTable {
  id: string
  merchant_id: string
  account_id: string
  /** 1, 2, … per account, in the order the entries were made. */
  seq: number
  type: StampEntryType
  amount: number
  shortfall: number
  available_after: number
  frozen_after: number
  idempotency_key: string
  fingerprint: string
  reason: string
  source: StampSource
  actor: string
  /** COMMIT/CANCEL: the hold they resolve. */
  hold_id: string | null
  /** DEPOSIT/CONSUME: the trade number they are for. */
  biz_no: string | null
  created_at: string
}
export type StampEntryRow = Selectable<StampEntriesTable>
export type NewStampEntryRow = Insertable<StampEntriesTable>

export type StampHoldStatus = 'held' | 'committed' | 'cancelled'

export interface StampHoldsTable {
  id: string
  merchant_id: string
  account_id: string
  amount: number
  status: StampHoldStatus
  freeze_entry_id: string
  resolved_entry_id: string | null
  exchange_activity_id: string | null
  out_biz_no: string | null
  expires_at: string
  created_at: string
  resolved_at: string | null
  /** Koubei's `point_log_no` of the mirrored FREEZE (biz_no of its COMMIT/CANCEL there). */
  koubei_log_no: string | null
}
export type StampHoldRow = Selectable<StampHoldsTable>
export type NewStampHoldRow = Insertable<StampHoldsTable>

/** One expiry moment of an account the worker has reminded about (POINT_REMIND), once. */
export interface StampRemindersTable {
  id: string
  merchant_id: string
  account_id: string
  expires_at: string
  amount: number
  created_at: string
}
export type NewStampReminderRow = Insertable<StampRemindersTable>
