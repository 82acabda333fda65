import { TemplateErrors } from './templates.errors.js'
import type { CardTemplateBody } from '@kaguan/alipay'
import type { TemplateSpec } from '@kaguan/contracts'
import { createHash, randomUUID } from 'node:crypto'
import type { AppDeps } from '../../deps.js'
import { type FieldProblem } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import {
  alipayContext,
  explainAlipayError,
  merchantPaths,
  type AlipayContext,
} from '../merchants/index.js'
import { listShops, type Shop } from '../shops/index.js'
import { omittedShops } from './template-preview.js'
import { formHash, toAlipayForm, toAlipayTemplate } from './template-rules.js'
import * as repo from './templates.repository.js'
import type { CardTemplateRow } from './templates.table.js'
import {
  type Actor,
  type CardTemplate,
  checkDraft,
  requireTemplate,
  type TemplatesDeps,
  toTemplate,
} from './templates.service.js'

export interface PublishOutcome {
  template: CardTemplate
  alipayCalls: string[]
  warnings: string[]
}

type PublishDeps = TemplatesDeps & Pick<AppDeps, 'db'>

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
  deps: PublishDeps,
  id: string,
  actor: Actor,
): Promise<PublishOutcome> {
  const { db } = deps
  await requireTemplate(deps, id)
  const now = deps.clock.now()
  const by = randomUUID()
  const taken = await repo.takePublishLease(db, id, {
    by,
    now: now.toISOString(),
    until: new Date(now.getTime() + PUBLISH_LEASE_MS).toISOString(),
  })
  if (!taken) {
    throw TemplateErrors.publishRunning(id)
  }
  try {
    return await doPublish(deps, id, actor)
  } finally {
    await repo.releasePublishLease(db, id, by)
  }
}

/** The publish steps, in order; each Alipay call is made outside any transaction. */
async function doPublish(deps: PublishDeps, id: string, actor: Actor): Promise<PublishOutcome> {
  const row = await requireTemplate(deps, id)
  const spec = JSON.parse(row.spec_json) as TemplateSpec
  const ctx = await alipayContext(deps, row.merchant_id)
  const shops = await listShops(deps, row.merchant_id)
  const warnings = await checkPublishable(deps, row, spec, ctx, shops)
  const body = await templateBody(deps, row.merchant_id, spec, ctx, shops)
  const sent = await sendTemplate(ctx, row, body)
  const calls = [sent.call]
  await recordPublished(deps, row, actor, sent.alipayTemplateId, calls)
  if (await sendForm(deps, ctx, row, spec, sent.alipayTemplateId)) {
    calls.push('alipay.marketing.card.formtemplate.set')
  }
  return {
    template: toTemplate(await requireTemplate(deps, id)),
    alipayCalls: calls,
    warnings,
  }
}

/**
 * Refuses a draft Alipay would reject or that kaguan cannot send (field problems, 400), and
 * answers the warnings: what a modify will not change, and shops Alipay will not list.
 */
async function checkPublishable(
  deps: PublishDeps,
  row: CardTemplateRow,
  spec: TemplateSpec,
  ctx: AlipayContext,
  shops: Shop[],
): Promise<string[]> {
  const published = row.published_json
    ? (JSON.parse(row.published_json) as TemplateSpec)
    : undefined
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
  await checkDraft(deps, row.merchant_id, spec, extra)
  // Alipay lists only shops it knows: one without its shop id drops out of 适用门店 silently.
  for (const shop of omittedShops(spec, shops)) {
    warnings.push(`${shop.name}: ${shop.reason}`)
  }
  return warnings
}

/** The create/modify body: the spec with the Alipay ids of its uploaded images and of its shops. */
async function templateBody(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  spec: TemplateSpec,
  ctx: AlipayContext,
  shops: Shop[],
): Promise<CardTemplateBody> {
  const images = await repo.findImages(deps.db, merchantId, [
    spec.style.logoImageId,
    spec.style.backgroundImageId,
  ])
  return toAlipayTemplate(spec, {
    appId: ctx.appId,
    alipayImageIds: new Map(images.map((i) => [i.id, i.alipay_image_id])),
    alipayShopIds: new Map(
      shops.flatMap((s) => (s.alipayShopId ? [[s.id, s.alipayShopId] as const] : [])),
    ),
    // checkPublishable refused a merchant without one.
    publicBaseUrl: ctx.publicBaseUrl!,
    paths: merchantPaths(merchantId),
  })
}

/**
 * `template.create` the first time, `template.modify` after. The request id is fixed per revision,
 * so Alipay treats a retried publish of the same revision as the same request.
 */
async function sendTemplate(
  ctx: AlipayContext,
  row: CardTemplateRow,
  body: CardTemplateBody,
): Promise<{ alipayTemplateId: string; call: string }> {
  const requestId = createHash('sha256')
    .update(`${row.id}:${row.revision}`)
    .digest('hex')
    .slice(0, 32)
  const opts = {
    appAuthToken: ctx.appAuthToken,
    notifyUrl: `${ctx.publicBaseUrl}${merchantPaths(row.merchant_id).notify}`,
  }
  try {
    if (row.alipay_template_id) {
      const { field_rule_list: _ignoredOnModify, ...modifiable } = body
      await ctx.client.modifyCardTemplate(
        { ...modifiable, request_id: requestId, template_id: row.alipay_template_id },
        opts,
      )
      return {
        alipayTemplateId: row.alipay_template_id,
        call: 'alipay.marketing.card.template.modify',
      }
    }
    const created = await ctx.client.createCardTemplate(
      { ...body, request_id: requestId, card_type: 'OUT_MEMBER_CARD', biz_no_suffix_len: '20' },
      opts,
    )
    return {
      alipayTemplateId: created.template_id,
      call: 'alipay.marketing.card.template.create',
    }
  } catch (error) {
    throw explainAlipayError(error, 'template.publish')
  }
}

/** The published revision and its Alipay template id, with the audit entry, in one transaction. */
async function recordPublished(
  deps: PublishDeps,
  row: CardTemplateRow,
  actor: Actor,
  alipayTemplateId: string,
  calls: string[],
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await repo.markPublished(trx, row.id, {
      alipayTemplateId,
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
        target: { type: 'template', id: row.id },
        after: { alipayTemplateId, revision: row.revision, calls },
      },
    )
  })
}

/**
 * `formtemplate.set`, only when the form changed since it was last sent; true when it was sent.
 * After recordPublished, so the template Alipay now holds is recorded even when the form fails;
 * the hash is saved only once Alipay took the form, so the next publish sends it again.
 */
async function sendForm(
  deps: Pick<AppDeps, 'db'>,
  ctx: AlipayContext,
  row: CardTemplateRow,
  spec: TemplateSpec,
  alipayTemplateId: string,
): Promise<boolean> {
  const hash = formHash(spec)
  if (hash === row.form_hash) {
    return false
  }
  try {
    await ctx.client.setFormTemplate(
      { template_id: alipayTemplateId, fields: toAlipayForm(spec) },
      { appAuthToken: ctx.appAuthToken },
    )
  } catch (error) {
    throw explainAlipayError(error, 'form.set')
  }
  await repo.setFormHash(deps.db, row.id, hash)
  return true
}
