import { TemplateErrors } from './templates.errors.js'
import { TemplateSpec } from '@kaguan/contracts'
import { Value } from '@sinclair/typebox/value'
import type { AppDeps } from '../../deps.js'
import type { Clock } from '../../shared/clock.js'
import { invalidFields, type FieldProblem } from '../../shared/errors.js'
import { LookupCache } from '../../shared/lookup-cache.js'
import { recordAudit } from '../audit/index.js'
import { findShops } from '../shops/index.js'
import { previewSpec } from './template-preview.js'
import { checkSpec } from './template-rules.js'
import * as repo from './templates.repository.js'
import type { CardTemplateRow } from './templates.table.js'

export type TemplatesDeps = Pick<AppDeps, 'clock' | 'ids' | 'cipher' | 'alipay'>
export type Actor = { actor: string; requestId?: string }

export type TemplateStatus = 'draft' | 'published' | 'changed'

export interface CardTemplate {
  id: string
  merchantId: string
  status: TemplateStatus
  spec: TemplateSpec
  alipayTemplateId: string | null
  revision: number
  publishedRevision: number | null
  publishedAt: string | null
  createdAt: string
  updatedAt: string
}

export function toTemplate(row: CardTemplateRow): CardTemplate {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    status:
      row.published_revision === null
        ? 'draft'
        : row.published_revision === row.revision
          ? 'published'
          : 'changed',
    spec: JSON.parse(row.spec_json) as TemplateSpec,
    alipayTemplateId: row.alipay_template_id,
    revision: row.revision,
    publishedRevision: row.published_revision,
    publishedAt: row.published_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** The spec with its defaults filled in, or a 400 naming the first schema problems. */
function normaliseSpec(input: unknown): TemplateSpec {
  const spec = Value.Default(TemplateSpec, Value.Clone(input)) as unknown
  if (!Value.Check(TemplateSpec, spec)) {
    const problems = [...Value.Errors(TemplateSpec, spec)].slice(0, 10).map((e) => ({
      field: e.path.replace(/^\//, '').replace(/\//g, '.') || 'spec',
      message: e.message,
    }))
    throw invalidFields('TEMPLATE_INVALID', problems)
  }
  return spec
}

export async function requireTemplate(
  deps: Pick<AppDeps, 'db'>,
  id: string,
  merchantId?: string,
): Promise<CardTemplateRow> {
  const { db } = deps
  const row = await repo.findTemplate(db, id)
  if (!row || (merchantId && row.merchant_id !== merchantId)) {
    throw TemplateErrors.notFound(id)
  }
  return row
}

/** Checks a draft against the merchant's images and shops; throws 400 naming every bad field. */
export async function checkDraft(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  merchantId: string,
  spec: TemplateSpec,
  extra: FieldProblem[] = [],
): Promise<void> {
  const { db } = deps
  const images = await repo.findImages(db, merchantId, [
    spec.style.logoImageId,
    spec.style.backgroundImageId,
  ])
  const shops = await findShops(deps, merchantId, spec.basic.shopIds)
  const problems = [
    ...checkSpec(spec, {
      imageIds: new Set(images.map((i) => i.id)),
      shopIds: new Set(shops.map((s) => s.id)),
      today: deps.clock.nowIso().slice(0, 10),
    }),
    ...extra,
  ]
  if (problems.length) {
    throw invalidFields('TEMPLATE_INVALID', problems)
  }
}

export async function createTemplate(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  merchantId: string,
  input: unknown,
  actor: Actor,
): Promise<CardTemplate> {
  const { db } = deps
  const spec = normaliseSpec(input)
  await checkDraft(deps, merchantId, spec)
  const now = deps.clock.nowIso()
  const row: CardTemplateRow = {
    id: deps.ids.next('tpl'),
    merchant_id: merchantId,
    spec_json: JSON.stringify(spec),
    revision: 1,
    published_json: null,
    published_revision: null,
    alipay_template_id: null,
    form_hash: null,
    published_at: null,
    publish_lease_by: null,
    publish_lease_until: null,
    created_at: now,
    updated_at: now,
  }
  await repo.insertTemplate(db, row)
  await recordAudit(deps, {
    merchantId,
    ...actor,
    action: 'template.create',
    target: { type: 'template', id: row.id },
    after: spec,
  })
  return toTemplate(row)
}

/** Saves a draft; `expectedRevision` (when given) refuses to overwrite someone else's newer save. */
export async function updateTemplateDraft(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  id: string,
  input: unknown,
  actor: Actor,
  expectedRevision?: number,
): Promise<CardTemplate> {
  const { db } = deps
  const row = await requireTemplate(deps, id)
  const spec = normaliseSpec(input)
  await checkDraft(deps, row.merchant_id, spec)
  const saved = await repo.updateDraft(
    db,
    id,
    expectedRevision ?? row.revision,
    JSON.stringify(spec),
    deps.clock.nowIso(),
  )
  if (!saved) {
    throw TemplateErrors.editConflict()
  }
  await recordAudit(deps, {
    merchantId: row.merchant_id,
    ...actor,
    action: 'template.update',
    target: { type: 'template', id },
    before: JSON.parse(row.spec_json),
    after: spec,
  })
  return toTemplate(await requireTemplate(deps, id))
}

export async function getTemplate(
  deps: Pick<AppDeps, 'db'>,
  id: string,
  merchantId?: string,
): Promise<CardTemplate> {
  return toTemplate(await requireTemplate(deps, id, merchantId))
}

export async function listTemplates(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
): Promise<CardTemplate[]> {
  const { db } = deps
  return (await repo.listTemplates(db, merchantId)).map(toTemplate)
}

/**
 * The merchant's published templates with the spec as last published (what the cards live by, not
 * a draft edited since): for rules the worker applies, such as points expiry.
 */
export async function listPublishedSpecs(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
): Promise<{ id: string; spec: TemplateSpec }[]> {
  return (await repo.listTemplates(deps.db, merchantId)).flatMap((row) =>
    row.published_json
      ? [{ id: row.id, spec: JSON.parse(row.published_json) as TemplateSpec }]
      : [],
  )
}

/** The kaguan template that Alipay knows by this id. */
export async function templateByAlipayId(
  deps: Pick<AppDeps, 'db'>,
  alipayTemplateId: string,
): Promise<CardTemplate | undefined> {
  const { db } = deps
  const row = await repo.findTemplateByAlipayId(db, alipayTemplateId)
  return row && toTemplate(row)
}

/**
 * Whose template Alipay knows by this id, for checking a signed CRM call (every `/card/update`
 * asks). Cached without invalidation: a template gets its Alipay id when published and never
 * changes merchant, and no template is deleted; only found templates are kept, so one published
 * by another process is seen at once.
 */
const owners = new LookupCache<string>(60_000)

export function templateOwner(
  deps: Pick<AppDeps, 'db'>,
  alipayTemplateId: string,
): Promise<string | undefined> {
  return owners.get(deps.db, alipayTemplateId, async () => {
    const row = await repo.findTemplateByAlipayId(deps.db, alipayTemplateId)
    return row?.merchant_id
  })
}

/** What the wallet would show for a template's saved draft. */
export async function templatePreview(
  deps: { clock: Clock } & Pick<AppDeps, 'db'>,
  merchantId: string,
  templateId: string,
) {
  const row = await requireTemplate(deps, templateId, merchantId)
  return previewSpec(deps, merchantId, JSON.parse(row.spec_json) as TemplateSpec)
}

/** What the wallet would show for an unsaved spec (the editor's live preview); 400 when malformed. */
export function draftPreview(
  deps: { clock: Clock } & Pick<AppDeps, 'db'>,
  merchantId: string,
  spec: unknown,
) {
  return previewSpec(deps, merchantId, normaliseSpec(spec))
}
