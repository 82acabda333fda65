import type { AppDeps } from '../../deps.js'
import { createHash, randomUUID } from 'node:crypto'
import { decodeApplyCardUrl } from '@kaguan/alipay'
import { TemplateSpec } from '@kaguan/contracts'
import { Value } from '@sinclair/typebox/value'
import QRCode from 'qrcode'
import type { Clock } from '../../shared/clock.js'
import { AppError, ErrorKind, invalidFields, type FieldProblem } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import {
  alipayContext,
  explainAlipayError,
  merchantPaths,
  MINI_PATHS,
  type AlipayContext,
} from '../merchants/index.js'
import { findShops, listShops } from '../shops/index.js'
import { cleanImage, safeImageName, type ImageType } from './image-content.js'
import { omittedShops, previewSpec } from './template-preview.js'
import { checkSpec, formHash, toAlipayForm, toAlipayTemplate } from './template-rules.js'
import * as repo from './templates.repository.js'
import type {
  CardComponentRow,
  CardTemplateRow,
  ClaimLinkRow,
  ImageRow,
} from './templates.table.js'

export type {
  CardComponentsTable,
  CardTemplatesTable,
  ClaimLinksTable,
  ImagesTable,
} from './templates.table.js'
export { toRgb } from './template-rules.js'
export { omittedShops, previewSpec, toWalletPreview } from './template-preview.js'

export type TemplatesDeps = Pick<AppDeps, 'clock' | 'ids' | 'cipher' | 'alipay'>
type Actor = { actor: string; requestId?: string }

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

function toTemplate(row: CardTemplateRow): CardTemplate {
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

async function requireTemplate(
  deps: Pick<AppDeps, 'db'>,
  id: string,
  merchantId?: string,
): Promise<CardTemplateRow> {
  const { db } = deps
  const row = await repo.findTemplate(db, id)
  if (!row || (merchantId && row.merchant_id !== merchantId)) {
    throw new AppError(ErrorKind.NotFound, 'TEMPLATE_NOT_FOUND', `template ${id} does not exist`)
  }
  return row
}

/** Checks a draft against the merchant's images and shops; throws 400 naming every bad field. */
async function checkDraft(
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
  const shops = await findShops({ db }, merchantId, spec.basic.shopIds)
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
  await checkDraft({ ...deps, db: db }, merchantId, spec)
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
  await recordAudit(
    { ...deps, db: db },
    {
      merchantId,
      ...actor,
      action: 'template.create',
      target: { type: 'template', id: row.id },
      after: spec,
    },
  )
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
  const row = await requireTemplate({ db }, id)
  const spec = normaliseSpec(input)
  await checkDraft({ ...deps, db: db }, row.merchant_id, spec)
  const saved = await repo.updateDraft(
    db,
    id,
    expectedRevision ?? row.revision,
    JSON.stringify(spec),
    deps.clock.nowIso(),
  )
  if (!saved) {
    throw new AppError(
      ErrorKind.Conflict,
      'TEMPLATE_EDIT_CONFLICT',
      'the template was changed by someone else since you opened it; reload and edit again',
    )
  }
  await recordAudit(
    { ...deps, db: db },
    {
      merchantId: row.merchant_id,
      ...actor,
      action: 'template.update',
      target: { type: 'template', id },
      before: JSON.parse(row.spec_json),
      after: spec,
    },
  )
  return toTemplate(await requireTemplate({ db }, id))
}

export async function getTemplate(
  deps: Pick<AppDeps, 'db'>,
  id: string,
  merchantId?: string,
): Promise<CardTemplate> {
  const { db } = deps
  return toTemplate(await requireTemplate({ db }, id, merchantId))
}

export async function listTemplates(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
): Promise<CardTemplate[]> {
  const { db } = deps
  return (await repo.listTemplates(db, merchantId)).map(toTemplate)
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

export interface Image {
  id: string
  name: string
  alipayImageId: string
  url: string
  createdAt: string
}

const toImage = (r: ImageRow): Image => ({
  id: r.id,
  name: r.name,
  alipayImageId: r.alipay_image_id,
  url: r.url,
  createdAt: r.created_at,
})

/**
 * Uploads an image to Alipay (`alipay.offline.material.image.upload`) and remembers its Alipay id.
 * The same bytes uploaded twice reuse the first upload.
 */
export async function uploadImage(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  merchantId: string,
  input: { name: string; type: ImageType; content: Buffer },
  actor: Actor,
): Promise<Image> {
  const { db } = deps
  const content = await cleanImage(input.type, input.content)
  const name = safeImageName(input.name, input.type)
  const sha256 = createHash('sha256').update(content).digest('hex')
  const existing = await repo.findImageBySha(db, merchantId, sha256)
  if (existing) {
    return toImage(existing)
  }
  const ctx = await alipayContext({ ...deps, db: db }, merchantId)
  let uploaded
  try {
    uploaded = await ctx.client.uploadImage(
      { image_type: input.type, image_name: name, content },
      { appAuthToken: ctx.appAuthToken },
    )
  } catch (error) {
    throw explainAlipayError(error, 'image.upload')
  }
  const row: ImageRow = {
    id: deps.ids.next('img'),
    merchant_id: merchantId,
    name,
    sha256,
    alipay_image_id: uploaded.image_id,
    url: uploaded.image_url,
    created_at: deps.clock.nowIso(),
  }
  await repo.insertImage(db, row)
  await recordAudit(
    { ...deps, db: db },
    {
      merchantId,
      ...actor,
      action: 'image.upload',
      target: { type: 'image', id: row.id },
      after: { name: row.name, alipayImageId: row.alipay_image_id },
    },
  )
  return toImage(row)
}

export async function listImages(deps: Pick<AppDeps, 'db'>, merchantId: string): Promise<Image[]> {
  const { db } = deps
  return (await repo.listImages(db, merchantId)).map(toImage)
}

export interface PublishOutcome {
  template: CardTemplate
  alipayCalls: string[]
  warnings: string[]
}

// Longer than a publish can take (three Alipay calls, each with its own timeout), so a lease runs
// out only when its holder died.
const PUBLISH_LEASE_MS = 120_000

/**
 * Publishes the draft to Alipay: `template.create` the first time, `template.modify` after (Alipay
 * cannot remove shops nor change field rules on modify, so those are refused or warned about), then
 * `formtemplate.set` only when the form changed since it was last sent. One publish of a template
 * at a time across all kaguan processes (a lease on its row): two clicks must not create two
 * Alipay templates; the second is answered 409 TEMPLATE_PUBLISH_RUNNING.
 */
export async function publishTemplate(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  id: string,
  actor: Actor,
): Promise<PublishOutcome> {
  const { db } = deps
  await requireTemplate({ db }, id)
  const now = deps.clock.now()
  const by = randomUUID()
  const taken = await repo.takePublishLease(db, id, {
    by,
    now: now.toISOString(),
    until: new Date(now.getTime() + PUBLISH_LEASE_MS).toISOString(),
  })
  if (!taken) {
    throw new AppError(
      ErrorKind.Conflict,
      'TEMPLATE_PUBLISH_RUNNING',
      `template ${id} is being published right now; look at it again in a moment`,
      {},
      { retryable: true },
    )
  }
  try {
    return await doPublish({ ...deps, db: db }, id, actor)
  } finally {
    await repo.releasePublishLease(db, id, by)
  }
}

async function doPublish(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  id: string,
  actor: Actor,
): Promise<PublishOutcome> {
  const { db } = deps
  const row = await requireTemplate({ db }, id)
  const spec = JSON.parse(row.spec_json) as TemplateSpec
  const ctx = await alipayContext({ ...deps, db: db }, row.merchant_id)
  const published = row.published_json
    ? (JSON.parse(row.published_json) as TemplateSpec)
    : undefined
  const shops = await listShops({ db }, row.merchant_id)
  const extra: FieldProblem[] = []
  if (!ctx.publicBaseUrl) {
    extra.push({
      field: 'publicBaseUrl',
      message:
        "the merchant's public URL is not set: Alipay needs it for the claim callback and notifications",
    })
  }
  const warnings: string[] = []
  if (published) {
    const alipayShop = new Map(shops.filter((s) => s.alipayShopId).map((s) => [s.id, s.name]))
    const removed = published.basic.shopIds.filter(
      (s) => alipayShop.has(s) && !spec.basic.shopIds.includes(s),
    )
    if (removed.length) {
      extra.push({
        field: 'basic.shopIds',
        message: `Alipay cannot remove shops from a published template (${removed.map((s) => alipayShop.get(s)).join(', ')})`,
      })
    }
    if (JSON.stringify(published.basic.validity) !== JSON.stringify(spec.basic.validity)) {
      warnings.push(
        '有效期的修改不会作用于支付宝上已发布的模板（Alipay ignores field rules on modify); it applies to cards kaguan opens from now on.',
      )
    }
  }
  await checkDraft({ ...deps, db: db }, row.merchant_id, spec, extra)
  // Alipay lists only shops it knows: one without its shop id drops out of 适用门店 silently.
  for (const shop of omittedShops(spec, shops)) {
    warnings.push(`${shop.name}: ${shop.reason}`)
  }

  const images = await repo.findImages(db, row.merchant_id, [
    spec.style.logoImageId,
    spec.style.backgroundImageId,
  ])
  const body = toAlipayTemplate(spec, {
    appId: ctx.appId,
    alipayImageIds: new Map(images.map((i) => [i.id, i.alipay_image_id])),
    alipayShopIds: new Map(
      shops.flatMap((s) => (s.alipayShopId ? [[s.id, s.alipayShopId] as const] : [])),
    ),
    publicBaseUrl: ctx.publicBaseUrl!,
    paths: merchantPaths(row.merchant_id),
  })
  const calls: string[] = []
  const requestId = createHash('sha256')
    .update(`${row.id}:${row.revision}`)
    .digest('hex')
    .slice(0, 32)
  const opts = {
    appAuthToken: ctx.appAuthToken,
    notifyUrl: `${ctx.publicBaseUrl}${merchantPaths(row.merchant_id).notify}`,
  }
  let alipayTemplateId = row.alipay_template_id
  try {
    if (alipayTemplateId) {
      const { field_rule_list: _ignoredOnModify, ...modifiable } = body
      await ctx.client.modifyCardTemplate(
        { ...modifiable, request_id: requestId, template_id: alipayTemplateId },
        opts,
      )
      calls.push('alipay.marketing.card.template.modify')
    } else {
      const created = await ctx.client.createCardTemplate(
        { ...body, request_id: requestId, card_type: 'OUT_MEMBER_CARD', biz_no_suffix_len: '20' },
        opts,
      )
      alipayTemplateId = created.template_id
      calls.push('alipay.marketing.card.template.create')
    }
  } catch (error) {
    throw explainAlipayError(error, 'template.publish')
  }
  await db.transaction().execute(async (trx) => {
    await repo.markPublished(trx, id, {
      alipayTemplateId: alipayTemplateId!,
      publishedJson: row.spec_json,
      revision: row.revision,
      now: deps.clock.nowIso(),
    })
    await recordAudit(
      { ...deps, db: trx },
      {
        merchantId: row.merchant_id,
        ...actor,
        action: 'template.publish',
        target: { type: 'template', id },
        after: { alipayTemplateId, revision: row.revision, calls },
      },
    )
  })
  const hash = formHash(spec)
  if (hash !== row.form_hash) {
    try {
      await ctx.client.setFormTemplate(
        { template_id: alipayTemplateId, fields: toAlipayForm(spec) },
        { appAuthToken: ctx.appAuthToken },
      )
    } catch (error) {
      throw explainAlipayError(error, 'form.set')
    }
    await repo.setFormHash(db, id, hash)
    calls.push('alipay.marketing.card.formtemplate.set')
  }
  return {
    template: toTemplate(await requireTemplate({ db }, id)),
    alipayCalls: calls,
    warnings,
  }
}

export interface ClaimLink {
  id: string
  templateId: string
  outString: string | null
  url: string
  createdAt: string
}

const toClaimLink = (r: ClaimLinkRow): ClaimLink => ({
  id: r.id,
  templateId: r.template_id,
  outString: r.out_string,
  url: r.url,
  createdAt: r.created_at,
})

function requirePublished(row: CardTemplateRow): string {
  if (!row.alipay_template_id) {
    throw new AppError(
      ErrorKind.Conflict,
      'TEMPLATE_NOT_PUBLISHED',
      `template ${row.id} is not published yet: publish it first`,
    )
  }
  return row.alipay_template_id
}

/** A claim link (`activateurl.apply`) for a published template; `outString` marks the channel. */
export async function createClaimLink(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  id: string,
  input: { outString?: string },
  actor: Actor,
): Promise<ClaimLink> {
  const { db } = deps
  const row = await requireTemplate({ db }, id)
  const alipayTemplateId = requirePublished(row)
  const ctx: AlipayContext = await alipayContext({ ...deps, db: db }, row.merchant_id)
  if (!ctx.publicBaseUrl) {
    throw invalidFields('CLAIM_LINK_INVALID', [
      { field: 'publicBaseUrl', message: "the merchant's public URL is not set" },
    ])
  }
  const callback = `${ctx.publicBaseUrl}${MINI_PATHS.callback}`
  let url: string
  try {
    const applied = await ctx.client.applyActivateUrl(
      {
        template_id: alipayTemplateId,
        callback,
        ...(input.outString ? { out_string: input.outString } : {}),
      },
      { appAuthToken: ctx.appAuthToken },
    )
    url = decodeApplyCardUrl(applied.apply_card_url)
  } catch (error) {
    throw explainAlipayError(error, 'claim.link', { callbackUrl: callback })
  }
  const link: ClaimLinkRow = {
    id: deps.ids.next('cl'),
    merchant_id: row.merchant_id,
    template_id: id,
    out_string: input.outString ?? null,
    url,
    created_at: deps.clock.nowIso(),
  }
  await repo.insertClaimLink(db, link)
  await recordAudit(
    { ...deps, db: db },
    {
      merchantId: row.merchant_id,
      ...actor,
      action: 'claim_link.create',
      target: { type: 'template', id },
      after: { outString: link.out_string },
    },
  )
  return toClaimLink(link)
}

export async function listClaimLinks(
  deps: Pick<AppDeps, 'db'>,
  templateId: string,
): Promise<ClaimLink[]> {
  const { db } = deps
  return (await repo.listClaimLinks(db, templateId)).map(toClaimLink)
}

export async function getClaimLink(deps: Pick<AppDeps, 'db'>, id: string): Promise<ClaimLink> {
  const { db } = deps
  const row = await repo.findClaimLink(db, id)
  if (!row) {
    throw new AppError(
      ErrorKind.NotFound,
      'CLAIM_LINK_NOT_FOUND',
      `claim link ${id} does not exist`,
    )
  }
  return toClaimLink(row)
}

/** The claim link as a QR code image. */
export async function claimLinkQr(
  deps: Pick<AppDeps, 'db'>,
  id: string,
  format: 'svg' | 'png',
): Promise<string | Buffer> {
  const { db } = deps
  const link = await getClaimLink({ db }, id)
  return format === 'svg'
    ? QRCode.toString(link.url, { type: 'svg', margin: 2 })
    : QRCode.toBuffer(link.url, { type: 'png', margin: 2, width: 512 })
}

export interface CardComponent {
  id: string
  merchantId: string
  templateId: string
  name: string
  outString: string | null
  createdAt: string
}

const toComponent = (r: CardComponentRow): CardComponent => ({
  id: r.id,
  merchantId: r.merchant_id,
  templateId: r.template_id,
  name: r.name,
  outString: r.out_string,
  createdAt: r.created_at,
})

export async function createComponent(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  merchantId: string,
  input: { name: string; templateId: string; outString?: string },
  actor: Actor,
): Promise<CardComponent> {
  const { db } = deps
  const template = await repo.findTemplate(db, input.templateId)
  if (!template || template.merchant_id !== merchantId) {
    throw invalidFields('COMPONENT_INVALID', [
      { field: 'templateId', message: `unknown template ${input.templateId}` },
    ])
  }
  const now = deps.clock.nowIso()
  const row = {
    id: deps.ids.next('cmp'),
    merchant_id: merchantId,
    template_id: input.templateId,
    name: input.name.trim(),
    out_string: input.outString ?? null,
    created_at: now,
    updated_at: now,
  }
  await repo.insertComponent(db, row)
  await recordAudit(
    { ...deps, db: db },
    {
      merchantId,
      ...actor,
      action: 'component.create',
      target: { type: 'component', id: row.id },
      after: { name: row.name, templateId: row.template_id },
    },
  )
  return toComponent(row)
}

export async function listComponents(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
): Promise<CardComponent[]> {
  const { db } = deps
  return (await repo.listComponents(db, merchantId)).map(toComponent)
}

/** What a mini-program page shows for a component: the published template's look and a claim link. */
export async function componentPublicView(deps: Pick<AppDeps, 'db'>, id: string) {
  const { db } = deps
  const component = await repo.findComponent(db, id)
  if (!component) {
    throw new AppError(ErrorKind.NotFound, 'COMPONENT_NOT_FOUND', `component ${id} does not exist`)
  }
  const row = await requireTemplate({ db }, component.template_id)
  const spec = JSON.parse(row.published_json ?? row.spec_json) as TemplateSpec
  const images = await repo.findImages(db, row.merchant_id, [
    spec.style.logoImageId,
    spec.style.backgroundImageId,
  ])
  const url = (imageId: string) => images.find((i) => i.id === imageId)?.url ?? null
  const links = await repo.listClaimLinks(db, row.id)
  const link = links.find((l) => l.out_string === component.out_string) ?? links[0]
  return {
    componentId: component.id,
    template: {
      name: spec.basic.name,
      displayName: spec.style.displayName?.trim() || spec.basic.name,
      logoUrl: url(spec.style.logoImageId),
      backgroundUrl: url(spec.style.backgroundImageId),
      fontColor: spec.style.fontColor,
      backgroundColor: spec.style.backgroundColor,
      columns: spec.columns.map((c) => ({ kind: c.kind, title: c.title })),
      levels: spec.levels.map((l) => ({ code: l.code, name: l.name })),
      published: row.alipay_template_id !== null,
    },
    claimUrl: link?.url ?? null,
  }
}

/** The newest claim link of the template Alipay knows by this id: where a failed claim retries. */
export async function latestClaimUrl(
  deps: Pick<AppDeps, 'db'>,
  alipayTemplateId: string,
): Promise<string | undefined> {
  const { db } = deps
  const row = await repo.findTemplateByAlipayId(db, alipayTemplateId)
  if (!row) {
    return undefined
  }
  return (await repo.listClaimLinks(db, row.id))[0]?.url
}

/** A component by id, or CARD_COMPONENT_NOT_FOUND. */
export async function getComponent(deps: Pick<AppDeps, 'db'>, id: string): Promise<CardComponent> {
  const { db } = deps
  const r = await repo.findComponent(db, id)
  if (!r) {
    throw new AppError(ErrorKind.NotFound, 'COMPONENT_NOT_FOUND', `component ${id} does not exist`)
  }
  return toComponent(r)
}

/** What the wallet would show for a template's saved draft. */
export async function templatePreview(
  deps: { clock: Clock } & Pick<AppDeps, 'db'>,
  merchantId: string,
  templateId: string,
) {
  const { db } = deps
  const row = await requireTemplate({ db }, templateId, merchantId)
  return previewSpec({ ...deps, db: db }, merchantId, JSON.parse(row.spec_json) as TemplateSpec)
}

/** What the wallet would show for an unsaved spec (the editor's live preview); 400 when malformed. */
export function draftPreview(
  deps: { clock: Clock } & Pick<AppDeps, 'db'>,
  merchantId: string,
  spec: unknown,
) {
  const { db } = deps
  return previewSpec({ ...deps, db: db }, merchantId, normaliseSpec(spec))
}
