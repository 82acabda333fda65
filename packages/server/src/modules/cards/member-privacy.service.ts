import type { MemberExportView, MemberEraseResult } from '@kaguan/contracts'
import type { AppDeps } from '../../deps.js'
import { recordAudit } from '../audit/index.js'
import { eraseMemberData, memberOfMerchant } from '../members/index.js'
import type { Actor } from '../merchants/index.js'
import { deleteCardByAdmin } from './card-events.service.js'
import { toCardView } from './card-state.service.js'
import * as repo from './cards.repository.js'
import { CardErrors } from './cards.errors.js'
import type { CardsDeps } from './claim.service.js'

/** No member's ledger is near this long; the export says so if one ever is. */
const MAX_ENTRIES_PER_CARD = 1_000_000
const MAX_CLAIMS = 10_000

async function requireMember(deps: Pick<AppDeps, 'db' | 'cipher'>, merchantId: string, id: string) {
  const member = await memberOfMerchant(deps, merchantId, id)
  if (!member) {
    throw CardErrors.memberNotFound(id)
  }
  return member
}

/**
 * Everything kaguan stores about one member, personal data in clear, for their request to see
 * and copy it (PIPL art. 45). Audited, as it shows personal data in full.
 */
export async function exportMember(
  deps: Pick<AppDeps, 'db' | 'cipher' | 'clock' | 'ids'>,
  merchantId: string,
  memberId: string,
  actor: Actor,
): Promise<MemberExportView> {
  const { db } = deps
  const member = await requireMember(deps, merchantId, memberId)
  const cards = await repo.listByMembers(db, [member.id])
  const entries = (
    await Promise.all(cards.map((c) => repo.listEntries(db, c.id, MAX_ENTRIES_PER_CARD)))
  ).flat()
  const claims = await repo.listClaimsOfUser(db, merchantId, member.alipayUserId, MAX_CLAIMS)
  await recordAudit(deps, {
    merchantId,
    ...actor,
    action: 'member.export',
    target: { type: 'member', id: member.id },
  })
  return {
    exportedAt: deps.clock.nowIso(),
    member: {
      id: member.id,
      merchantId: member.merchantId,
      alipayUserId: member.alipayUserId,
      bizCardNo: member.bizCardNo,
      source: member.source,
      profile: member.profile,
      ...(member.erasedAt ? { erasedAt: member.erasedAt } : {}),
      createdAt: member.createdAt,
    },
    cards: cards.map(toCardView),
    pointEntries: entries.map((e) => ({
      cardId: e.card_id,
      delta: Number(e.delta),
      pointAfter: Number(e.point_after),
      reason: e.reason,
      source: e.source,
      createdAt: e.created_at,
    })),
    claims: claims.map((c) => ({
      at: c.created_at,
      alipayTemplateId: c.alipay_template_id,
      status: c.status,
      errcode: c.error_code,
      outString: c.out_string,
    })),
    note:
      member.source === 'crm'
        ? 'kaguan holds a copy of what the merchant’s CRM sent; the CRM’s own records are exported there.'
        : 'kaguan is this merchant’s member system: this is everything it stores about the member.',
  }
}

/**
 * Erases a member's personal data on request (PIPL art. 47): their cards still active are deleted
 * first (in Alipay, and the CRM told, as an operator's delete does), then their data key is
 * destroyed and the fields cleared. Cards and the points ledger stay as records without personal
 * data, so the merchant's sums still add up. Audited with the reason; erasing twice is harmless.
 */
export async function eraseMember(
  deps: CardsDeps,
  merchantId: string,
  memberId: string,
  reason: string,
  actor: Actor,
): Promise<MemberEraseResult> {
  const member = await requireMember(deps, merchantId, memberId)
  const deletedCards: string[] = []
  for (const card of await repo.listByMembers(deps.db, [member.id])) {
    if (card.status === 'active') {
      await deleteCardByAdmin(deps, card.id, actor)
      deletedCards.push(card.id)
    }
  }
  return deps.db.transaction().execute(async (trx) => {
    const tx = { ...deps, db: trx }
    const erasedAt = await eraseMemberData(tx, member.id)
    await recordAudit(tx, {
      merchantId,
      ...actor,
      action: 'member.erase',
      target: { type: 'member', id: member.id },
      after: { reason, deletedCards },
    })
    return { memberId: member.id, erasedAt, deletedCards }
  })
}
