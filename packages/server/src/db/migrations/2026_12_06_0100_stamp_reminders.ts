import type { Kysely } from 'kysely'

/**
 * Stamp expiry reminders: one row per (account, expiry moment) once the worker has looked at it,
 * so two workers or a rerun send Alipay's POINT_REMIND at most once per expiry.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('stamp_reminders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('stamp_accounts.id'))
    // When the reminded stamps expire (ISO UTC).
    .addColumn('expires_at', 'text', (c) => c.notNull())
    // Stamps the reminder names; 0: nothing of this moment was left to remind about.
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('stamp_reminders_once', ['account_id', 'expires_at'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('stamp_reminders').execute()
}
