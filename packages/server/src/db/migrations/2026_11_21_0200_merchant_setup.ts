import type { Kysely } from 'kysely'

/**
 * Merchant set-up (the Alipay app, the public URL, the CRM), shops, uploaded images, card
 * templates, claim links and mini-program card components.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const merchantColumns: [string, 'text' | 'integer'][] = [
    ['alipay_app_id', 'text'],
    ['alipay_private_key_enc', 'text'],
    ['alipay_public_key', 'text'],
    ['alipay_gateway', 'text'],
    ['alipay_app_auth_token_enc', 'text'],
    ['public_base_url', 'text'],
    ['crm_base_url', 'text'],
    ['crm_token_enc', 'text'],
    ['crm_public_key', 'text'],
  ]
  // SQLite adds one column per statement.
  for (const [name, type] of merchantColumns) {
    await db.schema.alterTable('merchants').addColumn(name, type).execute()
  }
  await db.schema
    .alterTable('merchants')
    .addColumn('crm_mode', 'text', (c) => c.notNull().defaultTo('none'))
    .execute()

  await db.schema
    .createTable('shops')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('latitude', 'double precision', (c) => c.notNull())
    .addColumn('longitude', 'double precision', (c) => c.notNull())
    .addColumn('alipay_shop_id', 'text')
    .addColumn('phone', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('shops_merchant').on('shops').column('merchant_id').execute()

  await db.schema
    .createTable('images')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('alipay_image_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('images_merchant').on('images').column('merchant_id').execute()

  await db.schema
    .createTable('card_templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('spec_json', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('published_json', 'text')
    .addColumn('published_revision', 'integer')
    .addColumn('alipay_template_id', 'text', (c) => c.unique())
    // The form as last sent with formtemplate.set, so an unchanged form is not sent again.
    .addColumn('form_hash', 'text')
    .addColumn('published_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('card_templates_merchant')
    .on('card_templates')
    .column('merchant_id')
    .execute()

  await db.schema
    .createTable('claim_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull().references('card_templates.id'))
    .addColumn('out_string', 'text')
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('claim_links_template')
    .on('claim_links')
    .column('template_id')
    .execute()

  await db.schema
    .createTable('card_components')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull().references('card_templates.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('out_string', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['card_components', 'claim_links', 'card_templates', 'images', 'shops']) {
    await db.schema.dropTable(table).execute()
  }
}
