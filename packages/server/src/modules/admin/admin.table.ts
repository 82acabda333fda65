import type { Generated, Insertable, Selectable, Updateable } from 'kysely'

export interface AdminUsersTable {
  id: string
  username: string
  /** A memory-hard hash (argon2id, PHC string); never the password. */
  password_hash: string
  role: 'admin' | 'operator' | 'viewer'
  /** `platform`: sees every merchant; `merchant`: only those of its `admin_memberships`. */
  scope: Generated<'platform' | 'merchant'>
  failed_logins: number
  locked_until: string | null
  disabled: number
  created_at: string
  updated_at: string
}
export type AdminUserRow = Selectable<AdminUsersTable>
export type NewAdminUserRow = Insertable<AdminUsersTable>
export type AdminUserPatch = Updateable<AdminUsersTable>

export interface AdminSessionsTable {
  /** `ses_…`: names the session in audit entries and principals; never the credential. */
  id: string
  user_id: string
  /** sha256 (hex) of the session token; the token itself only lives in the browser's cookie. */
  token_hash: string
  ip: string | null
  created_at: string
  last_seen_at: string
  expires_at: string
}
export type AdminSessionRow = Selectable<AdminSessionsTable>
export type NewAdminSessionRow = Insertable<AdminSessionsTable>

/** Which merchants a merchant-scoped account sees, with its role at each. */
export interface AdminMembershipsTable {
  user_id: string
  merchant_id: string
  role: 'admin' | 'operator' | 'viewer'
  created_at: string
}
export type AdminMembershipRow = Selectable<AdminMembershipsTable>
