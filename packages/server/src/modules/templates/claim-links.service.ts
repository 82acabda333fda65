import { TemplateErrors } from './templates.errors.js'
import { decodeApplyCardUrl } from '@kaguan/alipay'
import QRCode from 'qrcode'
import type { AppDeps } from '../../deps.js'
import { invalidFields } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import {
  alipayContext,
  explainAlipayError,
  MINI_PATHS,
  type AlipayContext,
} from '../merchants/index.js'
import * as repo from './templates.repository.js'
import { type Actor, requireTemplate, type TemplatesDeps } from './templates.service.js'
import type { CardTemplateRow, ClaimLinkRow } from './templates.table.js'

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
    throw TemplateErrors.notPublished(row.id)
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
  const row = await requireTemplate(deps, id)
  const alipayTemplateId = requirePublished(row)
  const ctx: AlipayContext = await alipayContext(deps, row.merchant_id)
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
  await recordAudit(deps, {
    merchantId: row.merchant_id,
    ...actor,
    action: 'claim_link.create',
    target: { type: 'template', id },
    after: { outString: link.out_string },
  })
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
    throw TemplateErrors.claimLinkNotFound(id)
  }
  return toClaimLink(row)
}

/** The claim link as a QR code image. */
export async function claimLinkQr(
  deps: Pick<AppDeps, 'db'>,
  id: string,
  format: 'svg' | 'png',
): Promise<string | Buffer> {
  const link = await getClaimLink(deps, id)
  return format === 'svg'
    ? QRCode.toString(link.url, { type: 'svg', margin: 2 })
    : QRCode.toBuffer(link.url, { type: 'png', margin: 2, width: 512 })
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
