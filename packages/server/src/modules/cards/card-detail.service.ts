import { CardErrors } from './cards.errors.js'
import type { AppDeps } from '../../deps.js'
import { auditTrail } from '../audit/index.js'
import { getMember, type MembersDeps } from '../members/index.js'
import { toCardView, type CardView } from './card-state.service.js'
import * as repo from './cards.repository.js'

/** One card with its member, points history, audit trail and the user's claims. */
export async function cardDetail(deps: MembersDeps & Pick<AppDeps, 'db'>, cardId: string) {
  const { db } = deps
  const card = await repo.findCard(db, cardId)
  if (!card) {
    throw CardErrors.notFound(`card ${cardId} does not exist`)
  }
  const member = await getMember(deps, card.member_id)
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
    history: await auditTrail(deps, { type: 'card', id: cardId }),
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

export async function getCard(deps: Pick<AppDeps, 'db'>, cardId: string): Promise<CardView> {
  const { db } = deps
  const card = await repo.findCard(db, cardId)
  if (!card) {
    throw CardErrors.notFound(`card ${cardId} does not exist`)
  }
  return toCardView(card)
}
