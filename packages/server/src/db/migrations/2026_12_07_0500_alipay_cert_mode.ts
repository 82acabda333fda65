import type { Kysely } from 'kysely'

/**
 * Certificate mode (公钥证书) and the app charset: the three certificates, field-encrypted as the
 * private key is; the earliest expiry of the three in clear (for the expiry warnings and metric
 * without decrypting); `utf-8` or `GBK`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('merchants')
    .addColumn('alipay_sign_mode', 'text', (c) => c.notNull().defaultTo('key'))
    .execute()
  await db.schema
    .alterTable('merchants')
    .addColumn('alipay_charset', 'text', (c) => c.notNull().defaultTo('utf-8'))
    .execute()
  for (const column of ['alipay_app_cert_enc', 'alipay_public_cert_enc', 'alipay_root_cert_enc']) {
    await db.schema.alterTable('merchants').addColumn(column, 'text').execute()
  }
  await db.schema.alterTable('merchants').addColumn('alipay_cert_expires_at', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of [
    'alipay_cert_expires_at',
    'alipay_root_cert_enc',
    'alipay_public_cert_enc',
    'alipay_app_cert_enc',
    'alipay_charset',
    'alipay_sign_mode',
  ]) {
    await db.schema.alterTable('merchants').dropColumn(column).execute()
  }
}
