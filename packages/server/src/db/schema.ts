import type { AdminUsersTable } from '../modules/admin/admin.table.js'
import type { AuditLogTable } from '../modules/audit/audit.table.js'
import type { InboundMessagesTable } from '../modules/inbox/inbox.table.js'
import type { MasterKeyRotationTable } from '../modules/keys/keys.table.js'
import type { MerchantsTable } from '../modules/merchants/merchants.table.js'
import type { MerchantAppAuthsTable } from '../modules/merchants/app-auth.table.js'
import type { DeliveryPaceTable, OutboxTable } from '../modules/outbox/outbox.table.js'
import type { ShopsTable } from '../modules/shops/shops.table.js'
import type {
  CardsTable,
  ClaimsTable,
  ClaimBlocksTable,
  DynamicCodesTable,
  PointEntriesTable,
  PointRemindersTable,
} from '../modules/cards/cards.table.js'
import type { MembersTable, MerchantCountersTable } from '../modules/members/members.table.js'
import type {
  CardComponentsTable,
  CardTemplatesTable,
  ClaimLinksTable,
  ImagesTable,
} from '../modules/templates/templates.table.js'
import type { AdminMembershipsTable, AdminSessionsTable } from '../modules/admin/admin.table.js'
import type {
  StampAccountsTable,
  StampActivitiesTable,
  StampEntriesTable,
  StampHoldsTable,
  StampRemindersTable,
} from '../modules/stamps/stamps.table.js'

/** The whole schema, composed from the tables each module owns. */
export interface Database {
  merchants: MerchantsTable
  merchant_app_auths: MerchantAppAuthsTable
  master_key_rotation: MasterKeyRotationTable
  admin_users: AdminUsersTable
  audit_log: AuditLogTable
  outbox: OutboxTable
  delivery_pace: DeliveryPaceTable
  inbound_messages: InboundMessagesTable
  admin_sessions: AdminSessionsTable
  admin_memberships: AdminMembershipsTable
  shops: ShopsTable
  images: ImagesTable
  card_templates: CardTemplatesTable
  claim_links: ClaimLinksTable
  card_components: CardComponentsTable
  members: MembersTable
  merchant_counters: MerchantCountersTable
  cards: CardsTable
  claims: ClaimsTable
  claim_blocks: ClaimBlocksTable
  point_entries: PointEntriesTable
  dynamic_codes: DynamicCodesTable
  stamp_activities: StampActivitiesTable
  stamp_accounts: StampAccountsTable
  stamp_entries: StampEntriesTable
  stamp_holds: StampHoldsTable
  stamp_reminders: StampRemindersTable
  point_reminders: PointRemindersTable
}
