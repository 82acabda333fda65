import { sql, type Kysely } from 'kysely'

/**
 * Members (kaguan's own member store in no-CRM mode, a snapshot in CRM mode), issued cards, claim
 * attempts (one per Alipay callback request id), the points ledger, dynamic codes kaguan makes, and
 * per-merchant counters for sequential member numbers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('merchants')
    .addColumn('member_no_prefix', 'text', (c) => c.notNull().defaultTo('KG'))
    .execute()
  await db.schema
    .alterTable('merchants')
    .addColumn('member_no_style', 'text', (c) => c.notNull().defaultTo('random'))
    .execute()
  await db.schema
    .alterTable('merchants')
    .addColumn('crm_replay_strict', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()

  await db.schema
    .createTable('members')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('alipay_user_id', 'text', (c) => c.notNull())
    .addColumn('biz_card_no', 'text', (c) => c.notNull())
    // kaguan: our own member (no-CRM); crm: a snapshot of what the CRM answered.
    .addColumn('source', 'text', (c) => c.notNull())
    // pending: reserved for a claim whose Alipay card is not open yet; never shown as a member.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('name_enc', 'text')
    .addColumn('mobile_enc', 'text')
    .addColumn('mobile_hash', 'text')
    .addColumn('cert_no_enc', 'text')
    .addColumn('cert_no_hash', 'text')
    .addColumn('gender', 'text')
    .addColumn('birthday', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('members_user', ['merchant_id', 'alipay_user_id'])
    .execute()
  // Numbers kaguan issues are unique per merchant (a random draw that collides is drawn again); a
  // CRM's numbers are its own business, and kaguan keeps only a snapshot of them.
  await db.schema
    .createIndex('members_kaguan_card_no')
    .on('members')
    .columns(['merchant_id', 'biz_card_no'])
    .unique()
    .where(sql.ref('source'), '=', 'kaguan')
    .execute()
  await db.schema
    .createIndex('members_card_no')
    .on('members')
    .columns(['merchant_id', 'biz_card_no'])
    .execute()
  await db.schema
    .createIndex('members_mobile_hash')
    .on('members')
    .columns(['merchant_id', 'mobile_hash'])
    .execute()

  await db.schema
    .createTable('cards')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('member_id', 'text', (c) => c.notNull().references('members.id'))
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('alipay_template_id', 'text', (c) => c.notNull())
    .addColumn('alipay_user_id', 'text', (c) => c.notNull())
    // The CRM's (or kaguan's) card number: Alipay's external_card_no.
    .addColumn('biz_card_no', 'text', (c) => c.notNull())
    // Alipay's card number: Alipay's biz_card_no.
    .addColumn('alipay_card_no', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('out_string', 'text')
    .addColumn('point', 'bigint', (c) => c.notNull())
    .addColumn('level', 'text')
    .addColumn('balance', 'text')
    // Desired state version, and the version Alipay last acknowledged: they differ while a push is due.
    .addColumn('state_version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('pushed_version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('open_date', 'text', (c) => c.notNull())
    .addColumn('valid_date', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .addColumn('delete_reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('cards_alipay_card_no', ['merchant_id', 'alipay_card_no'])
    .execute()
  await db.schema
    .createIndex('cards_user_template')
    .on('cards')
    .columns(['merchant_id', 'alipay_template_id', 'alipay_user_id'])
    .execute()
  await db.schema
    .createIndex('cards_biz_card_no')
    .on('cards')
    .columns(['merchant_id', 'biz_card_no'])
    .execute()
  await db.schema.createIndex('cards_member').on('cards').column('member_id').execute()

  await db.schema
    .createTable('claims')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    // Alipay's request_id from the callback: one claim per form submission.
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('alipay_template_id', 'text', (c) => c.notNull())
    .addColumn('out_string', 'text')
    .addColumn('alipay_user_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('card_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('claims_request', ['merchant_id', 'request_id'])
    .execute()

  await db.schema
    .createTable('point_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('card_id', 'text', (c) => c.notNull().references('cards.id'))
    .addColumn('delta', 'bigint', (c) => c.notNull())
    .addColumn('point_after', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('point_entries_idempotency', ['merchant_id', 'source', 'idempotency_key'])
    .execute()
  await db.schema
    .createIndex('point_entries_card')
    .on('point_entries')
    .columns(['card_id', 'created_at'])
    .execute()

  await db.schema
    .createTable('dynamic_codes')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('card_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('merchant_counters')
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('merchant_counters_pk', ['merchant_id', 'name'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'merchant_counters',
    'dynamic_codes',
    'point_entries',
    'claims',
    'cards',
    'members',
  ]) {
    await db.schema.dropTable(t).execute()
  }
}
