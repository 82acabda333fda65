import { TemplateErrors } from './templates.errors.js'
import type { TemplateSpec } from '@kaguan/contracts'
import { createHash, randomUUID } from 'node:crypto'
import type { AppDeps } from '../../deps.js'
import { type FieldProblem } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import { alipayContext, explainAlipayError, merchantPaths } from '../merchants/index.js'
import { listShops } from '../shops/index.js'
import { omittedShops } from './template-preview.js'
import { formHash, toAlipayForm, toAlipayTemplate } from './template-rules.js'
import * as repo from './templates.repository.js'
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

async function doPublish(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  id: string,
  actor: Actor,
): Promise<PublishOutcome> {
  const { db } = deps
  const row = await requireTemplate(deps, id)
  const spec = JSON.parse(row.spec_json) as TemplateSpec
  const ctx = await alipayContext(deps, row.merchant_id)
  const published = row.published_json
    ? (JSON.parse(row.published_json) as TemplateSpec)
    : undefined
  const shops = await listShops(deps, row.merchant_id)
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
    template: toTemplate(await requireTemplate(deps, id)),
    alipayCalls: calls,
    warnings,
  }
}
