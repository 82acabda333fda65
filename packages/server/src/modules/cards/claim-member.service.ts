import type { AppDeps } from '../../deps.js'
import { recordCrmMember, reserveMember, type MemberProfile } from '../members/index.js'
import { crmConnection, memberSystem } from '../merchants/index.js'
import { templateByAlipayId, type CardTemplate } from '../templates/index.js'
import type { MemberAnswer } from './card-open-request.js'
import { CardErrors } from './cards.errors.js'
import * as repo from './cards.repository.js'
import type { CardRow } from './cards.table.js'

/** A card kaguan holds, as the claim flows pass it on (never the storage row). */
export interface HeldCard {
  id: string
  alipayCardNo: string
  bizCardNo: string
}

export function toHeldCard(row: CardRow): HeldCard {
  return { id: row.id, alipayCardNo: row.alipay_card_no, bizCardNo: row.biz_card_no }
}

/** Who asks for a card: the 3.0 claim callback, or the 3.1 open-card SPI. */
export interface MemberRequest {
  merchantId: string
  /** The published template the user claims from (the link's, or the SPI's). */
  template: CardTemplate
  /** The user's key in the app: user_id, or open_id when the app gets only that (OpenID). */
  alipayUserId: string
  /** The app's open_id of the user, when Alipay gave one. */
  alipayOpenId?: string
  /** What the user filled in on Alipay's form. */
  profile: MemberProfile
  outString?: string
}

/** A member ready for a card: whose number it is, the template to open and its opening state. */
export interface ResolvedMember extends MemberAnswer {
  memberId: string
  /** The merchant's CRM answered (its cardChange ADD is owed), or kaguan's own store did. */
  fromCrm: boolean
  /** The template the card opens from: the CRM may name another than the requested one. */
  template: CardTemplate
}

export type MemberResolution =
  { kind: 'held'; card: HeldCard } | { kind: 'member'; member: ResolvedMember }

/** The user's live card of an Alipay template, if they hold one: a second open is not needed. */
export async function findHeldCard(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  alipayTemplateId: string,
  alipayUserId: string,
  alipayOpenId?: string,
): Promise<HeldCard | undefined> {
  const row = await repo.findActiveForUser(
    deps.db,
    merchantId,
    alipayTemplateId,
    alipayUserId,
    alipayOpenId,
  )
  return row ? toHeldCard(row) : undefined
}

/**
 * The member behind a claim (DESIGN.md flow 2, reused by flow 7): in CRM mode the CRM's
 * `openCardInfo` answer, which may name another template of the merchant (the user may already
 * hold that one's card); otherwise a member reserved in kaguan's own store with the template's
 * defaults. The caller has already checked the requested template for a held card.
 */
export async function resolveMember(
  deps: Pick<AppDeps, 'db' | 'clock' | 'ids' | 'cipher' | 'alipay' | 'crm'>,
  req: MemberRequest,
): Promise<MemberResolution> {
  const { merchantId, template, alipayUserId: userId, alipayOpenId: openId, profile } = req
  const system = await memberSystem(deps, merchantId)
  let member: ResolvedMember
  if (system.mode === 'crm') {
    const conn = await crmConnection(deps, merchantId)
    if (!conn) {
      throw CardErrors.crmNotConfigured()
    }
    const answer = await deps.crm.openCardInfo(conn, {
      alipayUserId: userId,
      ...(openId ? { alipayOpenId: openId } : {}),
      templateId: template.alipayTemplateId!,
      ...(req.outString ? { outString: req.outString } : {}),
      ...profile,
    })
    let target = template
    if (answer.templateId && answer.templateId !== template.alipayTemplateId) {
      const other = await templateByAlipayId(deps, answer.templateId)
      if (!other || other.merchantId !== merchantId) {
        throw CardErrors.crmUnknownTemplate(answer.templateId)
      }
      target = other
      const held = await findHeldCard(deps, merchantId, answer.templateId, userId, openId)
      if (held) {
        return { kind: 'held', card: held }
      }
    }
    const snapshot = await recordCrmMember(
      deps,
      merchantId,
      userId,
      answer.bizCardNo,
      profile,
      openId,
    )
    member = {
      memberId: snapshot.id,
      bizCardNo: answer.bizCardNo,
      fromCrm: true,
      template: target,
      point: answer.point,
      level: answer.level,
      balance: answer.balance,
    }
  } else {
    const own = await reserveMember(deps, merchantId, userId, profile, system.numbering, openId)
    const { defaults } = template.spec
    member = {
      memberId: own.id,
      bizCardNo: own.bizCardNo,
      fromCrm: false,
      template,
      point: defaults.point,
      level: defaults.level,
      balance: defaults.balance,
    }
  }
  const { spec } = member.template
  if (member.level !== undefined && !spec.levels.some((l) => l.code === member.level)) {
    throw CardErrors.levelUnknown(
      member.fromCrm,
      member.level,
      member.template.id,
      spec.levels.map((l) => l.code),
    )
  }
  return { kind: 'member', member }
}
