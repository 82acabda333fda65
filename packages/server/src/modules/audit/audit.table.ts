import type { Insertable, Selectable } from 'kysely'

export interface AuditLogTable {
  id: string
  merchant_id: string | null
  /** `admin:<id>`, `cli`, `crm:<merchant>`, `system`. */
  actor: string
  /** Dotted verb: `template.publish`, `merchant.alipay.update`. */
  action: string
  target_type: string | null
  target_id: string | null
  /** JSON with secrets elided and personal data masked. */
  before_json: string | null
  after_json: string | null
  request_id: string | null
  created_at: string
}
export type AuditRow = Selectable<AuditLogTable>
export type NewAuditRow = Insertable<AuditLogTable>
