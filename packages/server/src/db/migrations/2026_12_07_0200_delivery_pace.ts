import type { Kysely } from 'kysely'

/**
 * One row per paced destination (an Alipay app): the next free call slot, shared by every kaguan
 * process on the database, so N workers together stay within one app's pace (issue 12).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('delivery_pace')
    .addColumn('pace_key', 'text', (c) => c.primaryKey())
    // Microseconds since the epoch: whole numbers, exact for any pace up to 1,000,000/s.
    .addColumn('next_slot_us', 'bigint', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('delivery_pace').execute()
}
