import type { Insertable, Selectable, Updateable } from 'kysely'

/** A merchant's third-party app authorisation to the ISV's app (migration 2026_12_07_0700). */
export interface MerchantAppAuthsTable {
  merchant_id: string
  status: 'pending' | 'authorised' | 'revoked'
  isv_app_id: string
  state_hash: string | null
  /** Field-encrypted (context `merchant_app_auths.state`). */
  state_enc: string | null
  auth_app_id: string | null
  auth_user_id: string | null
  /** Field-encrypted (context `merchant_app_auths.app_auth_token`). */
  app_auth_token_enc: string | null
  /** Field-encrypted (context `merchant_app_auths.refresh_token`). */
  refresh_token_enc: string | null
  token_expires_at: string | null
  refresh_expires_at: string | null
  authorised_at: string | null
  refreshed_at: string | null
  revoked_at: string | null
  last_error: string | null
  created_at: string
  updated_at: string
}
export type AppAuthRow = Selectable<MerchantAppAuthsTable>
export type NewAppAuthRow = Insertable<MerchantAppAuthsTable>
export type AppAuthUpdate = Updateable<MerchantAppAuthsTable>
