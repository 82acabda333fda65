import type { Kysely } from 'kysely'

/**
 * Abuse controls for open-card gifts and the erasure of a member's personal data (PIPL):
 * - claims remember where they came from, as keyed hashes (the IP address and kaguan's device
 *   cookie are personal data: only equality is needed), and whether they opened a new card, so the
 *   per-device, per-IP and per-day limits count the claims that opened one;
 * - operators can block an Alipay user from claiming the merchant's cards;
 * - each member's personal fields are encrypted under the member's own data key (wrapped by the
 *   master key), so erasing the member destroys the key and every copy of those fields with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('claims').addColumn('client_ip_hash', 'text').execute()
  await db.schema.alterTable('claims').addColumn('device_hash', 'text').execute()
  // 1: this claim opened a new card; 0: it gave back a card the user held; null: not finished.
  await db.schema.alterTable('claims').addColumn('opened_card', 'integer').execute()
  await db.schema
    .createIndex('claims_template_time')
    .on('claims')
    .columns(['merchant_id', 'alipay_template_id', 'created_at'])
    .execute()

  await db.schema
    .createTable('claim_blocks')
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('alipay_user_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('blocked_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('claim_blocks_pk', ['merchant_id', 'alipay_user_id'])
    .execute()

  await db.schema.alterTable('members').addColumn('data_key_enc', 'text').execute()
  await db.schema.alterTable('members').addColumn('erased_at', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('members').dropColumn('erased_at').execute()
  await db.schema.alterTable('members').dropColumn('data_key_enc').execute()
  await db.schema.dropTable('claim_blocks').execute()
  await db.schema.dropIndex('claims_template_time').execute()
  await db.schema.alterTable('claims').dropColumn('opened_card').execute()
  await db.schema.alterTable('claims').dropColumn('device_hash').execute()
  await db.schema.alterTable('claims').dropColumn('client_ip_hash').execute()
}
