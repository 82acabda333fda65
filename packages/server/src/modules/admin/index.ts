/**
 * Admin users of the management console: accounts (argon2id passwords, lock-out), sessions
 * (cookie token stored as sha256, sliding 12 h expiry, derived CSRF token) and roles.
 */
export type { AdminSessionsTable, AdminUsersTable } from './admin.table.js'
export { AdminErrors } from './admin.errors.js'
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './admin.password.js'
export {
  AdminRoles,
  Permissions,
  can,
  isAdminRole,
  permissionsOf,
  type AdminRole,
  type Permission,
} from './admin.permissions.js'
export {
  AdminScopes,
  canSomewhere,
  roleAt,
  type AdminScope,
  type MerchantAccess,
  type TenancyOf,
} from './admin.tenancy.js'
export {
  LOCKOUT_MS,
  MAX_FAILED_LOGINS,
  SESSION_TTL_MS,
  authenticate,
  changeOwnPassword,
  countAdminSessions,
  createAdminUser,
  getAdminUser,
  listAdminUsers,
  login,
  logout,
  normalizeUsername,
  resetAdminPassword,
  updateAdminUser,
  type AdminDeps,
  type AdminPrincipal,
  type AdminUser,
  type AuditContext,
  type LoginResult,
} from './admin.service.js'
