import type { Kysely } from 'kysely'

/**
 * Card points expiry reminders (no-CRM mode): one row per (card, expiry moment) once the worker has
 * looked at it, so two workers or a rerun send Alipay's POINT_REMIND at most once per expiry.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('point_reminders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('card_id', 'text', (c) => c.notNull().references('cards.id'))
    // When the reminded points expire (ISO UTC).
    .addColumn('expires_at', 'text', (c) => c.notNull())
    // Points the reminder names; 0: nothing of this moment was left to remind about.
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('point_reminders_once', ['card_id', 'expires_at'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('point_reminders').execute()
}
