import type { Kysely } from 'kysely'

/**
 * Issue 13: the 3.1 (极速版) open-card SPI and OpenID.
 *
 * - `claims` also records the 3.1 SPI's open requests (`mode` '3.1', `request_id` = 'spi:' +
 *   Alipay's out_serial_no): `alipay_card_no` is the SPI's biz_card_no, by which the result
 *   message finds it; `answer` the member resolution answered (JSON; no personal data), so a
 *   retried SPI call answers the same without asking the CRM again.
 * - `alipay_user_id` columns keep the user's identity in the app (a 2088… user_id, or the open_id
 *   of an app that only gets that); `alipay_open_id` is the open_id beside a user_id, so a user is
 *   matched by either once the app moves to OpenID.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('claims')
    .addColumn('mode', 'text', (c) => c.notNull().defaultTo('3.0'))
    .execute()
  await db.schema.alterTable('claims').addColumn('alipay_card_no', 'text').execute()
  await db.schema.alterTable('claims').addColumn('answer', 'text').execute()
  await db.schema.alterTable('claims').addColumn('alipay_open_id', 'text').execute()
  await db.schema
    .createIndex('claims_alipay_card_no')
    .on('claims')
    .columns(['merchant_id', 'alipay_card_no'])
    .execute()
  await db.schema.alterTable('cards').addColumn('alipay_open_id', 'text').execute()
  await db.schema.alterTable('cards').addColumn('alipay_union_id', 'text').execute()
  await db.schema.alterTable('members').addColumn('alipay_open_id', 'text').execute()
  await db.schema
    .createIndex('cards_open_id')
    .on('cards')
    .columns(['merchant_id', 'alipay_open_id'])
    .execute()
  await db.schema
    .createIndex('members_open_id')
    .on('members')
    .columns(['merchant_id', 'alipay_open_id'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('members_open_id').execute()
  await db.schema.dropIndex('cards_open_id').execute()
  await db.schema.alterTable('members').dropColumn('alipay_open_id').execute()
  await db.schema.alterTable('cards').dropColumn('alipay_union_id').execute()
  await db.schema.alterTable('cards').dropColumn('alipay_open_id').execute()
  await db.schema.dropIndex('claims_alipay_card_no').execute()
  for (const column of ['alipay_open_id', 'answer', 'alipay_card_no', 'mode']) {
    await db.schema.alterTable('claims').dropColumn(column).execute()
  }
}
