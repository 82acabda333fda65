import type { Kysely } from 'kysely'

/**
 * The cards of a user across a merchant's templates (how many the user opened, for card.open's
 * out_serial_no; the OpenID match): by (merchant, user) without a scan of the merchant's cards.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('cards_user')
    .on('cards')
    .columns(['merchant_id', 'alipay_user_id'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('cards_user').execute()
}
