export { AuditErrors } from './audit.errors.js'
export {
  auditTrail,
  elideSecrets,
  recentAudit,
  recordAudit,
  searchAudit,
  type AuditDeps,
  type AuditEntry,
  type AuditFilter,
} from './audit.service.js'
export type { AuditLogTable } from './audit.table.js'
export type { AuditRecord } from './audit.view.js'
