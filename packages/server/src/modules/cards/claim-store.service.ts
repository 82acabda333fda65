import type { AppDeps } from '../../deps.js'
import { recordAudit } from '../audit/index.js'
import { activateMember } from '../members/index.js'
import { enqueue } from '../outbox/index.js'
import { toHeldCard, type HeldCard, type ResolvedMember } from './claim-member.service.js'
import * as repo from './cards.repository.js'
import type { CardRow } from './cards.table.js'
import { CARD_CHANGE_TOPIC, type CardChangePayload } from './topics.js'

/** A card Alipay has opened, to be stored. */
export interface OpenedCard {
  merchantId: string
  member: ResolvedMember
  alipayUserId: string
  alipayOpenId?: string
  alipayUnionId?: string
  /** Alipay's card number from card.open (or, later, from the open-card result message). */
  alipayCardNo: string
  /** The dates sent with card.open, as the card shows them. */
  openDate: string
  validDate: string
  outString?: string
  /** The claim this card settles, finished in the same transaction; none for the SPI open-card. */
  claimId?: string
}

/**
 * Stores an opened card in one transaction: the card row (unique by Alipay's card number, so a
 * repeated open stores nothing new), and only when this call created it: the member activated, the
 * opening points in the ledger, CRM cardChange ADD through the outbox, the audit entry. `created`
 * is false when another callback stored the same card first.
 */
export async function storeCard(
  deps: Pick<AppDeps, 'db' | 'clock' | 'ids' | 'cipher'>,
  opened: OpenedCard,
): Promise<{ card: HeldCard; created: boolean }> {
  const { clock } = deps
  const { merchantId, member, alipayUserId: userId, alipayCardNo } = opened
  const alipayTemplateId = member.template.alipayTemplateId!
  return deps.db.transaction().execute(async (trx) => {
    const tx = { ...deps, db: trx }
    const nowIso = clock.nowIso()
    const row: CardRow = {
      id: deps.ids.next('card'),
      merchant_id: merchantId,
      member_id: member.memberId,
      template_id: member.template.id,
      alipay_template_id: alipayTemplateId,
      alipay_user_id: userId,
      alipay_open_id: opened.alipayOpenId ?? null,
      alipay_union_id: opened.alipayUnionId ?? null,
      biz_card_no: member.bizCardNo,
      alipay_card_no: alipayCardNo,
      status: 'active',
      out_string: opened.outString ?? null,
      point: member.point,
      level: member.level ?? null,
      balance: member.balance ?? null,
      state_version: 1,
      pushed_version: 1,
      open_date: opened.openDate,
      valid_date: opened.validDate,
      deleted_at: null,
      delete_reason: null,
      created_at: nowIso,
      updated_at: nowIso,
    }
    const created = await repo.insertCardOnce(trx, row)
    const stored = created ? row : (await repo.findByAlipayCardNo(trx, merchantId, alipayCardNo))!
    if (created) {
      await activateMember(tx, member.memberId)
      await repo.insertEntryOnce(trx, {
        id: deps.ids.next('pe'),
        merchant_id: merchantId,
        card_id: row.id,
        delta: member.point,
        point_after: member.point,
        reason: 'open',
        source: 'claim',
        idempotency_key: row.id,
        created_at: nowIso,
      })
      if (member.fromCrm) {
        const payload: CardChangePayload = {
          type: 'ADD',
          templateId: alipayTemplateId,
          alipayUserId: userId,
          ...(opened.alipayOpenId ? { alipayOpenId: opened.alipayOpenId } : {}),
          bizCardNo: member.bizCardNo,
          alipayCardNo,
        }
        // One order key per card: its DEL is delivered only after this ADD.
        await enqueue(tx, { merchantId, topic: CARD_CHANGE_TOPIC, orderKey: row.id, payload })
      }
      await recordAudit(tx, {
        merchantId,
        actor: `alipay:${userId}`,
        action: 'card.open',
        target: { type: 'card', id: row.id },
        after: {
          templateId: member.template.id,
          bizCardNo: member.bizCardNo,
          alipayCardNo,
          point: member.point,
          level: member.level,
          balance: member.balance,
          outString: opened.outString ?? null,
        },
      })
    }
    if (opened.claimId) {
      await repo.finishClaim(trx, opened.claimId, {
        status: 'done',
        card_id: stored.id,
        opened_card: created ? 1 : 0,
        updated_at: nowIso,
      })
    }
    return { card: toHeldCard(stored), created }
  })
}
