import { sql, type Kysely } from 'kysely'

/**
 * Tenancy (issue 14): an admin account is either platform-wide (`scope = 'platform'`, the ISV's
 * staff, sees every merchant) or scoped to the merchants listed in `admin_memberships`, with a role
 * per merchant. Every account that exists before this migration becomes a platform admin (the
 * column's default), so a single-merchant install keeps working exactly as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('admin_users')
    .addColumn('scope', 'text', (c) => c.notNull().defaultTo('platform'))
    .execute()
  await db.schema
    .createTable('admin_memberships')
    .addColumn('user_id', 'text', (c) =>
      c.notNull().references('admin_users.id').onDelete('cascade'),
    )
    .addColumn('merchant_id', 'text', (c) =>
      c.notNull().references('merchants.id').onDelete('cascade'),
    )
    // The account's role at this merchant: admin, operator or viewer.
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('admin_memberships_pk', ['user_id', 'merchant_id'])
    .execute()
  await db.schema
    .createIndex('admin_memberships_by_merchant')
    .on('admin_memberships')
    .column('merchant_id')
    .execute()
  // Spelled out for readers of the data: every account so far is platform-wide.
  await sql`UPDATE admin_users SET scope = 'platform'`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('admin_memberships').execute()
  await db.schema.alterTable('admin_users').dropColumn('scope').execute()
}
