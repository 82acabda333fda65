import { TemplateErrors } from './templates.errors.js'
import type { TemplateSpec } from '@kaguan/contracts'
import type { AppDeps } from '../../deps.js'
import { invalidFields } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import * as repo from './templates.repository.js'
import { type Actor, requireTemplate, type TemplatesDeps } from './templates.service.js'
import type { CardComponentRow } from './templates.table.js'

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
  await recordAudit(deps, {
    merchantId,
    ...actor,
    action: 'component.create',
    target: { type: 'component', id: row.id },
    after: { name: row.name, templateId: row.template_id },
  })
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
    throw TemplateErrors.componentNotFound(id)
  }
  const row = await requireTemplate(deps, component.template_id)
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

/** A component by id, or CARD_COMPONENT_NOT_FOUND. */
export async function getComponent(deps: Pick<AppDeps, 'db'>, id: string): Promise<CardComponent> {
  const { db } = deps
  const r = await repo.findComponent(db, id)
  if (!r) {
    throw TemplateErrors.componentNotFound(id)
  }
  return toComponent(r)
}
