import type { AdminUsersTable } from '../modules/admin/admin.table.js'
import type { AuditLogTable } from '../modules/audit/audit.table.js'
import type { InboundMessagesTable } from '../modules/inbox/inbox.table.js'
import type { MerchantsTable } from '../modules/merchants/merchants.table.js'
import type { OutboxTable } from '../modules/outbox/outbox.table.js'

/** The whole schema, composed from the tables each module owns. */
export interface Database {
  merchants: MerchantsTable
  admin_users: AdminUsersTable
  audit_log: AuditLogTable
  outbox: OutboxTable
  inbound_messages: InboundMessagesTable
}
