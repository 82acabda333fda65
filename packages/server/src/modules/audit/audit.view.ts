import type { AuditRow } from './audit.table.js'

export interface AuditRecord {
  id: string
  merchantId: string | null
  actor: string
  action: string
  target: { type: string; id: string } | null
  before: unknown
  after: unknown
  requestId: string | null
  createdAt: string
}

/** A stored entry as the admin API shows it. */
export function toRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    actor: row.actor,
    action: row.action,
    target: row.target_type && row.target_id ? { type: row.target_type, id: row.target_id } : null,
    before: row.before_json ? JSON.parse(row.before_json) : null,
    after: row.after_json ? JSON.parse(row.after_json) : null,
    requestId: row.request_id,
    createdAt: row.created_at,
  }
}
