import type { Selectable } from 'kysely'

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
