import type { Kysely } from 'kysely'

/**
 * Entries that must reach their system in order (a CRM's cardChange ADD before DEL of one card)
 * carry an order key: the worker delivers them one at a time per key, oldest first.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('order_key', 'text').execute()
  await db.schema
    .createIndex('outbox_order')
    .on('outbox')
    .columns(['topic', 'order_key', 'id'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('outbox_order').execute()
  await db.schema.alterTable('outbox').dropColumn('order_key').execute()
}
