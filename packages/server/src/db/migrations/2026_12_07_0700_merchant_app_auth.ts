import type { Kysely } from 'kysely'

/**
 * Third-party app authorisation (issue 14, docs/alipay-app-auth.md): a merchant onboarded through
 * the ISV's one Alipay app keeps its authorisation here: the pending link's state (looked up by
 * hash, kept encrypted so the console can show the link again), then the merchant's app id and
 * user id and the encrypted app_auth_token / refresh token with their expiries.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('merchant_app_auths')
    .addColumn('merchant_id', 'text', (c) => c.primaryKey().references('merchants.id'))
    // pending (link sent), authorised, revoked (the merchant withdrew it, or Alipay says invalid).
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('isv_app_id', 'text', (c) => c.notNull())
    // SHA-256 (hex) of the state the link carries; null once used.
    .addColumn('state_hash', 'text')
    .addColumn('state_enc', 'text')
    .addColumn('auth_app_id', 'text')
    .addColumn('auth_user_id', 'text')
    .addColumn('app_auth_token_enc', 'text')
    .addColumn('refresh_token_enc', 'text')
    .addColumn('token_expires_at', 'text')
    .addColumn('refresh_expires_at', 'text')
    .addColumn('authorised_at', 'text')
    .addColumn('refreshed_at', 'text')
    .addColumn('revoked_at', 'text')
    // The last refresh failure, for the console (never a token).
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('merchant_app_auths_state')
    .on('merchant_app_auths')
    .column('state_hash')
    .unique()
    .execute()
  await db.schema
    .createIndex('merchant_app_auths_auth_app')
    .on('merchant_app_auths')
    .column('auth_app_id')
    .execute()
  await db.schema
    .createIndex('merchant_app_auths_due')
    .on('merchant_app_auths')
    .columns(['status', 'token_expires_at'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('merchant_app_auths').execute()
}
