import type { Kysely } from 'kysely'

/**
 * Key custody (issue 14). Per merchant, the key each rotation brings in beside the one in use:
 * the next Alipay app private key (activated by the operator once its public key is uploaded to
 * Alipay), the CRM public key being retired (accepted until its end), the next CRM token (sent
 * first, the old one when the CRM refuses it, until the operator retires the old one). And the
 * progress of `kaguan keys rotate-master`, one row per (target key, part), so that a run killed
 * midway continues where its last committed batch ended.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const columns: [string, string][] = [
    // Field-encrypted like alipay_private_key_enc (context `merchants.alipay_private_key`).
    ['alipay_private_key_next_enc', 'text'],
    ['alipay_private_key_next_at', 'text'],
    ['crm_public_key_old', 'text'],
    // ISO UTC; the old key is accepted while now < this.
    ['crm_public_key_old_until', 'text'],
    // Field-encrypted like crm_token_enc (context `merchants.crm_token`).
    ['crm_token_next_enc', 'text'],
    ['crm_token_next_at', 'text'],
    // When the CRM first accepted the next token.
    ['crm_token_next_seen_at', 'text'],
  ]
  for (const [name, type] of columns) {
    await db.schema
      .alterTable('merchants')
      .addColumn(name, type as 'text')
      .execute()
  }
  await db.schema
    .createTable('master_key_rotation')
    .addColumn('target_key_id', 'text', (c) => c.notNull())
    .addColumn('part', 'text', (c) => c.notNull())
    .addColumn('cursor', 'text')
    .addColumn('scanned', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('rewritten', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addPrimaryKeyConstraint('master_key_rotation_pk', ['target_key_id', 'part'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('master_key_rotation').execute()
  for (const name of [
    'alipay_private_key_next_enc',
    'alipay_private_key_next_at',
    'crm_public_key_old',
    'crm_public_key_old_until',
    'crm_token_next_enc',
    'crm_token_next_at',
    'crm_token_next_seen_at',
  ]) {
    await db.schema.alterTable('merchants').dropColumn(name).execute()
  }
}
