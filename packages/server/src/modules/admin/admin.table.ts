import type { Insertable, Selectable, Updateable } from 'kysely'

export interface AdminUsersTable {
  id: string
  username: string
  /** A memory-hard hash (argon2id, PHC string); never the password. */
  password_hash: string
  role: 'admin' | 'operator' | 'viewer'
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
