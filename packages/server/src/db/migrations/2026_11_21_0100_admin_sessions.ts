import type { Kysely } from 'kysely'

/**
 * Console sessions of admin users. Only the sha256 of the session token is stored, so a copy of
 * the database does not let anyone sign in. Portable SQL only: text ids, ISO-8601 text timestamps.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('admin_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) =>
      c.notNull().references('admin_users.id').onDelete('cascade'),
    )
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('ip', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('admin_sessions_user')
    .on('admin_sessions')
    .column('user_id')
    .execute()
  await db.schema
    .createIndex('admin_sessions_expires')
    .on('admin_sessions')
    .column('expires_at')
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('admin_sessions').execute()
}
