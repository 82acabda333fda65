import type { Kysely } from 'kysely'

/**
 * How Alipay's subscribed messages reach a merchant: the HTTP app gateway (`http`, the default) or
 * the WebSocket long connection (`websocket`, docs/alipay-message-channel.md). The lease columns
 * say which worker holds the merchant's one connection across the cluster.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('merchants')
    .addColumn('message_channel', 'text', (c) => c.notNull().defaultTo('http'))
    .execute()
  await db.schema.alterTable('merchants').addColumn('message_channel_lease_by', 'text').execute()
  await db.schema.alterTable('merchants').addColumn('message_channel_lease_until', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('merchants').dropColumn('message_channel_lease_until').execute()
  await db.schema.alterTable('merchants').dropColumn('message_channel_lease_by').execute()
  await db.schema.alterTable('merchants').dropColumn('message_channel').execute()
}
