import type { Executor } from '../../db/db.js'
import { AppError, ErrorKind } from '../../shared/errors.js'
import { auditTrail } from '../audit/index.js'
import { getMember, type MembersDeps } from '../members/index.js'
import { alipayContext, explainAlipayError } from '../merchants/index.js'
import { getComponent, getTemplate } from '../templates/index.js'
import type { CardsDeps } from './claim.service.js'
import { handleCardNotification, issueDynamicCode } from './card-events.service.js'
import { repushCard, toCardView, type CardView } from './card-state.service.js'
import * as repo from './cards.repository.js'

export type {
  CardsTable,
  ClaimsTable,
  DynamicCodesTable,
  PointEntriesTable,
} from './cards.table.js'
export {
  claimCard,
  type CardsDeps,
  type ClaimCallback,
  type ClaimOutcome,
} from './claim.service.js'
export {
  deleteCardByAdmin,
  handleCardNotification,
  handleMdcode,
  verifyDynamicCode,
} from './card-events.service.js'
export {
  adjustPoints,
  cardOutboxHandlers,
  changeCardTemplate,
  findCardForCrm,
  setCardState,
  type CardView,
  type StateChange,
} from './card-state.service.js'
export { CARD_CHANGE_TOPIC, CARD_PUSH_TOPIC } from './topics.js'
export { cardStats, type CardStats } from './card-stats.service.js'
export { cardFigures, type CardFigures } from './card-metrics.service.js'
export {
  activeCardsOf,
  listMembers,
  type MemberQuery,
  type MemberWithCards,
} from './member-list.service.js'

/** One card with its member, points history, audit trail and the user's claims. */
export async function cardDetail(db: Executor, deps: MembersDeps, cardId: string) {
  const card = await repo.findCard(db, cardId)
  if (!card) {
    throw new AppError(ErrorKind.NotFound, 'CARD_NOT_FOUND', `card ${cardId} does not exist`)
  }
  const member = await getMember(db, deps, card.member_id)
  const entries = await repo.listEntries(db, cardId, 200)
  return {
    card: toCardView(card),
    member: member ?? null,
    points: entries.map((e) => ({
      id: e.id,
      delta: Number(e.delta),
      pointAfter: Number(e.point_after),
      reason: e.reason,
      source: e.source,
      createdAt: e.created_at,
    })),
    history: await auditTrail(db, { type: 'card', id: cardId }),
    // Every claim of the card's user, failed ones included: why an earlier attempt did not open.
    claims: (await repo.listClaimsOfUser(db, card.merchant_id, card.alipay_user_id, 50)).map(
      (c) => ({
        id: c.id,
        status: c.status,
        alipayTemplateId: c.alipay_template_id,
        outString: c.out_string,
        cardId: c.card_id,
        errcode: c.error_code,
        reason: c.error_message,
        createdAt: c.created_at,
        updatedAt: c.updated_at,
      }),
    ),
  }
}

export async function getCard(db: Executor, cardId: string): Promise<CardView> {
  const card = await repo.findCard(db, cardId)
  if (!card) {
    throw new AppError(ErrorKind.NotFound, 'CARD_NOT_FOUND', `card ${cardId} does not exist`)
  }
  return toCardView(card)
}

export interface ReconcileReport {
  checked: number
  repushed: string[]
  deleted: string[]
  failed: { cardId: string; error: string }[]
}

/**
 * Compares every active card with `alipay.marketing.card.query` and repairs drift: a card Alipay no
 * longer shows (empty schema_url) is deleted here (and the CRM told); one whose points, level or
 * balance differ gets a fresh push of kaguan's state.
 */
export async function reconcileCards(
  deps: CardsDeps,
  merchantId: string,
  options: { limit?: number } = {},
): Promise<ReconcileReport> {
  const ctx = await alipayContext(deps.db, deps, merchantId)
  const report: ReconcileReport = { checked: 0, repushed: [], deleted: [], failed: [] }
  let after = ''
  const limit = options.limit ?? Number.MAX_SAFE_INTEGER
  while (report.checked < limit) {
    const page = await repo.listActive(deps.db, merchantId, after, 100)
    if (!page.length) {
      break
    }
    for (const card of page) {
      if (report.checked >= limit) {
        break
      }
      report.checked++
      after = card.id
      try {
        const q = (await ctx.client.queryCard(
          { target_card_no: card.alipay_card_no, target_card_no_type: 'BIZ_CARD' },
          { appAuthToken: ctx.appAuthToken },
        )) as {
          schema_url?: string
          card_info?: { point?: string; level?: string; balance?: string }
        }
        if (!q.schema_url) {
          await handleCardNotification(deps, merchantId, {
            type: 'DELETE',
            alipayCardNo: card.alipay_card_no,
            reason: 'RECONCILE_GONE',
          })
          report.deleted.push(card.id)
          continue
        }
        const info = q.card_info ?? {}
        const differs =
          Number(info.point ?? 0) !== Number(card.point) ||
          (info.level ?? null) !== (card.level ?? null) ||
          (card.balance !== null && Number(info.balance ?? 0) !== Number(card.balance))
        if (differs) {
          await repushCard(deps, card.id)
          report.repushed.push(card.id)
        }
      } catch (error) {
        report.failed.push({
          cardId: card.id,
          error: error instanceof Error ? error.message : String(error),
        })
      }
    }
  }
  return report
}

/**
 * The card a mini-program page shows for its user: the auth code (my.getAuthCode) is exchanged for
 * the user id, then the user's card of the component's template, with its code (the card number for
 * static codes, a fresh dynamic code otherwise). NOT_FOUND when the user has not claimed it.
 */
export async function componentCard(deps: CardsDeps, componentId: string, authCode: string) {
  const component = await getComponent(deps.db, componentId)
  const template = await getTemplate(deps.db, component.templateId)
  if (!template.alipayTemplateId) {
    throw new AppError(ErrorKind.NotFound, 'CARD_NOT_FOUND', 'the template is not published yet')
  }
  const ctx = await alipayContext(deps.db, deps, component.merchantId)
  let userId: string | undefined
  try {
    userId = (await ctx.client.exchangeAuthCode(authCode, { appAuthToken: ctx.appAuthToken }))
      .user_id
  } catch (error) {
    throw explainAlipayError(error, 'oauth')
  }
  const card = userId
    ? await repo.findActiveForUser(deps.db, component.merchantId, template.alipayTemplateId, userId)
    : undefined
  if (!card) {
    throw new AppError(
      ErrorKind.NotFound,
      'CARD_NOT_FOUND',
      'this user has no card of the template yet: show the claim link',
    )
  }
  const type = template.spec.style.code.type
  const dynamic = type === 'dynamicQr' || type === 'dynamicBarcode'
  const code =
    type === 'none'
      ? null
      : dynamic
        ? { type, ...(await issueDynamicCode(deps, card, ctx.appId)) }
        : { type, codeValue: card.biz_card_no }
  const view = toCardView(card)
  return {
    bizCardNo: view.bizCardNo,
    point: view.point,
    level: view.level,
    balance: view.balance,
    validDate: view.validDate,
    code,
  }
}
