import type { Executor } from '../../db/db.js'
import type {
  CardComponentRow,
  CardTemplateRow,
  ClaimLinkRow,
  ImageRow,
} from './templates.table.js'

export function findTemplate(db: Executor, id: string): Promise<CardTemplateRow | undefined> {
  return db.selectFrom('card_templates').selectAll().where('id', '=', id).executeTakeFirst()
}

export function findTemplateByAlipayId(
  db: Executor,
  alipayTemplateId: string,
): Promise<CardTemplateRow | undefined> {
  return db
    .selectFrom('card_templates')
    .selectAll()
    .where('alipay_template_id', '=', alipayTemplateId)
    .executeTakeFirst()
}

export function listTemplates(db: Executor, merchantId: string): Promise<CardTemplateRow[]> {
  return db
    .selectFrom('card_templates')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
}

export async function insertTemplate(db: Executor, row: CardTemplateRow): Promise<void> {
  await db.insertInto('card_templates').values(row).execute()
}

/** Saves a draft only if nobody saved since `revision` was read (optimistic concurrency). */
export async function updateDraft(
  db: Executor,
  id: string,
  expectedRevision: number,
  specJson: string,
  now: string,
): Promise<boolean> {
  const r = await db
    .updateTable('card_templates')
    .set((eb) => ({
      spec_json: specJson,
      revision: eb(eb.ref('revision'), '+', 1),
      updated_at: now,
    }))
    .where('id', '=', id)
    .where('revision', '=', expectedRevision)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function markPublished(
  db: Executor,
  id: string,
  values: { alipayTemplateId: string; publishedJson: string; revision: number; now: string },
): Promise<void> {
  await db
    .updateTable('card_templates')
    .set({
      alipay_template_id: values.alipayTemplateId,
      published_json: values.publishedJson,
      published_revision: values.revision,
      published_at: values.now,
      updated_at: values.now,
    })
    .where('id', '=', id)
    .execute()
}

export async function setFormHash(db: Executor, id: string, formHash: string): Promise<void> {
  await db.updateTable('card_templates').set({ form_hash: formHash }).where('id', '=', id).execute()
}

export function findImages(
  db: Executor,
  merchantId: string,
  ids: readonly string[],
): Promise<ImageRow[]> {
  if (!ids.length) {
    return Promise.resolve([])
  }
  return db
    .selectFrom('images')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('id', 'in', ids)
    .execute()
}

export function findImageBySha(
  db: Executor,
  merchantId: string,
  sha256: string,
): Promise<ImageRow | undefined> {
  return db
    .selectFrom('images')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('sha256', '=', sha256)
    .executeTakeFirst()
}

export function listImages(db: Executor, merchantId: string): Promise<ImageRow[]> {
  return db
    .selectFrom('images')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('created_at', 'desc')
    .execute()
}

export async function insertImage(db: Executor, row: ImageRow): Promise<void> {
  await db.insertInto('images').values(row).execute()
}

export async function insertClaimLink(db: Executor, row: ClaimLinkRow): Promise<void> {
  await db.insertInto('claim_links').values(row).execute()
}

export function findClaimLink(db: Executor, id: string): Promise<ClaimLinkRow | undefined> {
  return db.selectFrom('claim_links').selectAll().where('id', '=', id).executeTakeFirst()
}

export function listClaimLinks(db: Executor, templateId: string): Promise<ClaimLinkRow[]> {
  return db
    .selectFrom('claim_links')
    .selectAll()
    .where('template_id', '=', templateId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute()
}

export async function insertComponent(db: Executor, row: CardComponentRow): Promise<void> {
  await db.insertInto('card_components').values(row).execute()
}

export function findComponent(db: Executor, id: string): Promise<CardComponentRow | undefined> {
  return db.selectFrom('card_components').selectAll().where('id', '=', id).executeTakeFirst()
}

export function listComponents(db: Executor, merchantId: string): Promise<CardComponentRow[]> {
  return db
    .selectFrom('card_components')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('created_at')
    .execute()
}

/** Takes the publish lease of a template unless another holder's lease is still running. */
export async function takePublishLease(
  db: Executor,
  id: string,
  lease: { by: string; until: string; now: string },
): Promise<boolean> {
  const r = await db
    .updateTable('card_templates')
    .set({ publish_lease_by: lease.by, publish_lease_until: lease.until })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([eb('publish_lease_until', 'is', null), eb('publish_lease_until', '<', lease.now)]),
    )
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function releasePublishLease(db: Executor, id: string, by: string): Promise<void> {
  await db
    .updateTable('card_templates')
    .set({ publish_lease_by: null, publish_lease_until: null })
    .where('id', '=', id)
    .where('publish_lease_by', '=', by)
    .execute()
}
