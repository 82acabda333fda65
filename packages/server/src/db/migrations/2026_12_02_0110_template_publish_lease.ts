import type { Kysely } from 'kysely'

/**
 * A publish of a template holds a lease on its row, so two kaguan processes (or two clicks) never
 * create two Alipay templates for one draft: the second is told one is running.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('card_templates').addColumn('publish_lease_by', 'text').execute()
  await db.schema.alterTable('card_templates').addColumn('publish_lease_until', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('card_templates').dropColumn('publish_lease_until').execute()
  await db.schema.alterTable('card_templates').dropColumn('publish_lease_by').execute()
}
