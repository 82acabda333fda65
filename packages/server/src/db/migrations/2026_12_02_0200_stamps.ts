import { sql, type Kysely } from 'kysely'

/**
 * Point collection (集点): stamp and exchange activities, one stamp account per (merchant, member,
 * activity), its append-only ledger, and the holds (FREEZE) an exchange waits on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('stamp_activities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    // POINT_SEND: a stamp card; DIRECT_SEND: vouchers bought with the stamps of a POINT_SEND.
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('spec_json', 'text', (c) => c.notNull())
    // DIRECT_SEND: the stamp activity whose stamps it spends.
    .addColumn('stamp_activity_id', 'text')
    .addColumn('hold_ttl_seconds', 'integer', (c) => c.notNull().defaultTo(1800))
    .addColumn('alipay_camp_id', 'text')
    .addColumn('alipay_item_id', 'text')
    .addColumn('coupon_url', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('published_at', 'text')
    .addColumn('ended_at', 'text')
    .execute()
  await db.schema
    .createIndex('stamp_activities_merchant')
    .on('stamp_activities')
    .columns(['merchant_id', 'status'])
    .execute()

  await db.schema
    .createTable('stamp_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('member_id', 'text', (c) => c.notNull().references('members.id'))
    .addColumn('activity_id', 'text', (c) => c.notNull().references('stamp_activities.id'))
    .addColumn('available', 'bigint', (c) => c.notNull())
    .addColumn('frozen', 'bigint', (c) => c.notNull())
    // Lifetime stamps deposited (Koubei's total_points 累计), never lowered.
    .addColumn('earned', 'bigint', (c) => c.notNull())
    // The seq of the account's last entry: entries are numbered 1, 2, … in the order they locked it.
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('stamp_accounts_owner', ['merchant_id', 'member_id', 'activity_id'])
    // The last line of defence: a bug in the service cannot make a balance negative.
    .addCheckConstraint('stamp_accounts_nonnegative', sql`available >= 0 and frozen >= 0`)
    .execute()

  await db.schema
    .createTable('stamp_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('stamp_accounts.id'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    // What could not be taken back (a refund after the stamps were spent).
    .addColumn('shortfall', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('available_after', 'bigint', (c) => c.notNull())
    .addColumn('frozen_after', 'bigint', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    // sha256 of what the request asked for: the same key with another request is refused.
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('hold_id', 'text')
    .addColumn('biz_no', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('stamp_entries_key', ['merchant_id', 'idempotency_key'])
    // Two writers that both missed the lock could not both append entry n: a lost update fails here.
    .addUniqueConstraint('stamp_entries_seq', ['account_id', 'seq'])
    .execute()
  // A hold resolves at most once: one COMMIT or one CANCEL entry names it, never two.
  await db.schema
    .createIndex('stamp_entries_hold_resolution')
    .on('stamp_entries')
    .column('hold_id')
    .unique()
    .where(sql.ref('hold_id'), 'is not', null)
    .execute()
  await db.schema
    .createIndex('stamp_entries_biz_no')
    .on('stamp_entries')
    .columns(['merchant_id', 'biz_no'])
    .execute()

  await db.schema
    .createTable('stamp_holds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('stamp_accounts.id'))
    .addColumn('amount', 'bigint', (c) => c.notNull())
    // held → committed | cancelled, once.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('freeze_entry_id', 'text', (c) => c.notNull())
    .addColumn('resolved_entry_id', 'text')
    // The exchange it pays for (the coupon link's outBizNo), when it is one.
    .addColumn('exchange_activity_id', 'text')
    .addColumn('out_biz_no', 'text')
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('resolved_at', 'text')
    .execute()
  await db.schema
    .createIndex('stamp_holds_out_biz_no')
    .on('stamp_holds')
    .columns(['merchant_id', 'out_biz_no'])
    .unique()
    .execute()
  await db.schema
    .createIndex('stamp_holds_due')
    .on('stamp_holds')
    .columns(['status', 'expires_at'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('stamp_holds').execute()
  await db.schema.dropTable('stamp_entries').execute()
  await db.schema.dropTable('stamp_accounts').execute()
  await db.schema.dropTable('stamp_activities').execute()
}
