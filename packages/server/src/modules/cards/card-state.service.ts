import { CardErrors } from './cards.errors.js'
import { chinaTime } from '../../shared/china-time.js'
import { invalidFields } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import { alipayContext, crmConnection, memberSystem } from '../merchants/index.js'
import { enqueue, type OutboxEntry, type OutboxHandler } from '../outbox/index.js'
import { getTemplate, templateByAlipayId } from '../templates/index.js'
import type { Executor } from '../../db/db.js'
import type { CardsDeps } from './claim.service.js'
import * as repo from './cards.repository.js'
import type { CardRow } from './cards.table.js'
import {
  CARD_CHANGE_TOPIC,
  CARD_PUSH_TOPIC,
  type CardChangePayload,
  type CardPushPayload,
} from './topics.js'

/** A card as the APIs show it. */
export interface CardView {
  id: string
  merchantId: string
  memberId: string
  templateId: string
  alipayTemplateId: string
  alipayUserId: string
  bizCardNo: string
  alipayCardNo: string
  status: 'active' | 'deleted'
  point: number
  level: string | null
  balance: string | null
  /** True while Alipay does not show the latest state yet. */
  syncPending: boolean
  openDate: string
  validDate: string
  outString: string | null
  deletedAt: string | null
  createdAt: string
}

function toCardViewOrUndefined(row: CardRow | undefined): CardView | undefined {
  return row && toCardView(row)
}

export function toCardView(row: CardRow): CardView {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    memberId: row.member_id,
    templateId: row.template_id,
    alipayTemplateId: row.alipay_template_id,
    alipayUserId: row.alipay_user_id,
    bizCardNo: row.biz_card_no,
    alipayCardNo: row.alipay_card_no,
    status: row.status,
    point: Number(row.point),
    level: row.level,
    balance: row.balance,
    syncPending: row.pushed_version < row.state_version,
    openDate: row.open_date,
    validDate: row.valid_date,
    outString: row.out_string,
    deletedAt: row.deleted_at,
    createdAt: row.created_at,
  }
}

/** Queues the card's push to Alipay (collapsed per card: the worker sends the latest state). */
export async function queuePush(trx: Executor, deps: CardsDeps, card: CardRow): Promise<void> {
  const payload: CardPushPayload = { cardId: card.id }
  await enqueue(
    { ...deps, db: trx },
    {
      merchantId: card.merchant_id,
      topic: CARD_PUSH_TOPIC,
      collapseKey: card.id,
      payload,
    },
  )
}

/**
 * Pushes kaguan's state of a card to Alipay again, as it is (reconciliation found Alipay showing
 * something else): the state version moves so the worker does not skip it as already pushed.
 */
export async function repushCard(deps: CardsDeps, cardId: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const row = await repo.setState(trx, cardId, {}, deps.clock.nowIso())
    if (row) {
      await queuePush(trx, deps, row)
    }
  })
}

/**
 * The active card a CRM call names by (Alipay) template id and its own card number. `merchantId`,
 * when the caller already verified the call against that template's merchant, spares reading the
 * template again.
 */
export async function findCardForCrm(
  deps: CardsDeps,
  alipayTemplateId: string,
  bizCardNo: string,
  merchantId?: string,
): Promise<CardView> {
  const template = merchantId ? { merchantId } : await templateByAlipayId(deps, alipayTemplateId)
  if (!template) {
    throw CardErrors.templateNotPublished(alipayTemplateId)
  }
  // The card of the named template first: one member may hold cards of several templates under one
  // number. Any template next: changeTemplate moves a card while the CRM may still name the old one.
  const card =
    (await repo.findActiveByBizCardNo(
      deps.db,
      template.merchantId,
      [alipayTemplateId],
      bizCardNo,
    )) ?? (await repo.findActiveByBizCardNo(deps.db, template.merchantId, [], bizCardNo))
  if (!card) {
    throw CardErrors.notFound(`bizCardNo ${bizCardNo} has no active card`)
  }
  return toCardView(card)
}

function checkLevel(levels: { code: string }[], level: string | undefined | null): void {
  if (level && !levels.some((l) => l.code === level)) {
    throw invalidFields('CARD_LEVEL_UNKNOWN', [
      { field: 'level', message: `level ${level} is not defined in the card's template` },
    ])
  }
}

export interface StateChange {
  point?: number
  level?: string | null
  balance?: string | null
  reason: string
  /** Who: `crm`, `admin:<id>`, `till`… */
  source: string
  /** Makes a repeated call a no-op. */
  idempotencyKey: string
}

/**
 * Sets a card's points/level/balance (the CRM's `/card/update`, the console): records the desired
 * state and queues the Alipay push in one transaction. A repeated idempotency key changes nothing.
 * `known` is the card as the caller just read it (it only spares that read: the change itself
 * works from the row read under the lock).
 */
export async function setCardState(
  deps: CardsDeps,
  cardId: string,
  change: StateChange,
  /** The card as the caller just read it (findCardForCrm): spares reading it again. */
  known?: CardView,
): Promise<CardView> {
  const current =
    known?.id === cardId ? known : toCardViewOrUndefined(await repo.findCard(deps.db, cardId))
  if (!current || current.status !== 'active') {
    throw CardErrors.notFound(`card ${cardId} is not active`)
  }
  if (change.level !== undefined) {
    checkLevel((await getTemplate(deps, current.templateId)).spec.levels, change.level)
  }
  const updated = await deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.nowIso()
    // Lock first: two concurrent updates must not both compute their delta from the same old value.
    const fresh = await repo.lockCard(trx, cardId)
    const delta = change.point !== undefined ? change.point - Number(fresh!.point) : 0
    const first = await repo.insertEntryOnce(trx, {
      id: deps.ids.next('pe'),
      merchant_id: current.merchantId,
      card_id: cardId,
      delta,
      point_after: change.point ?? Number(fresh!.point),
      reason: change.reason,
      source: change.source,
      idempotency_key: change.idempotencyKey,
      created_at: now,
    })
    if (!first) {
      const earlier = await repo.findEntry(
        trx,
        current.merchantId,
        change.source,
        change.idempotencyKey,
      )
      if (
        earlier?.card_id !== cardId ||
        (change.point !== undefined && Number(earlier.point_after) !== change.point)
      ) {
        throw CardErrors.keyReused()
      }
      return fresh!
    }
    const row = await repo.setState(
      trx,
      cardId,
      {
        ...(change.point !== undefined ? { point: change.point } : {}),
        ...(change.level !== undefined ? { level: change.level } : {}),
        ...(change.balance !== undefined ? { balance: change.balance } : {}),
      },
      now,
    )
    if (!row) {
      throw CardErrors.notFound(`card ${cardId} is not active`)
    }
    await queuePush(trx, deps, row)
    return row
  })
  return toCardView(updated)
}

/**
 * Adds (or with a negative delta, takes) points: kaguan's own ledger in no-CRM mode. Refuses to go
 * below zero; the same idempotency key returns the first result and changes nothing.
 */
export async function adjustPoints(
  deps: CardsDeps,
  cardId: string,
  input: {
    delta: number
    reason: string
    source: string
    idempotencyKey: string
    /** Who asked, when it is a person: the change is written to the audit log. */
    audit?: { actor: string; requestId?: string }
  },
): Promise<{ card: CardView; replayed: boolean }> {
  if (!Number.isSafeInteger(input.delta) || input.delta === 0) {
    throw invalidFields('POINTS_INVALID', [
      { field: 'delta', message: 'must be a non-zero whole number' },
    ])
  }
  const card = await repo.findCard(deps.db, cardId)
  if (!card || card.status !== 'active') {
    throw CardErrors.notFound(`card ${cardId} is not active`)
  }
  if ((await memberSystem(deps, card.merchant_id)).mode === 'crm') {
    // The CRM's next /card/update would overwrite the change without a trace on its side.
    throw CardErrors.pointsOwnedByCrm()
  }
  // The key is decided inside the transaction, after the card's lock: a twin still running holds
  // the lock, and once it commits this sees its entry and replays instead of refusing.
  return deps.db.transaction().execute(async (trx) => {
    await repo.lockCard(trx, cardId)
    const earlier = await repo.findEntry(trx, card.merchant_id, input.source, input.idempotencyKey)
    if (earlier) {
      if (earlier.card_id !== cardId || Number(earlier.delta) !== input.delta) {
        throw CardErrors.keyReused()
      }
      return { card: toCardView((await repo.findCard(trx, cardId))!), replayed: true }
    }
    const now = deps.clock.nowIso()
    const row = await repo.addPoints(trx, cardId, input.delta, now)
    if (!row) {
      throw CardErrors.pointsInsufficient(card.point, -input.delta)
    }
    // Another card's change with the same key can still race this one: the unique key decides.
    const first = await repo.insertEntryOnce(trx, {
      id: deps.ids.next('pe'),
      merchant_id: card.merchant_id,
      card_id: cardId,
      delta: input.delta,
      point_after: Number(row.point),
      reason: input.reason,
      source: input.source,
      idempotency_key: input.idempotencyKey,
      created_at: now,
    })
    if (!first) {
      throw CardErrors.keyReused()
    }
    await queuePush(trx, deps, row)
    if (input.audit) {
      await recordAudit(
        { ...deps, db: trx },
        {
          merchantId: card.merchant_id,
          actor: input.audit.actor,
          action: 'card.adjust_points',
          target: { type: 'card', id: cardId },
          before: { point: Number(row.point) - input.delta },
          after: { point: Number(row.point), delta: input.delta, reason: input.reason },
          ...(input.audit.requestId ? { requestId: input.audit.requestId } : {}),
        },
      )
    }
    return { card: toCardView(row), replayed: false }
  })
}

/** Moves a card to another published template of the merchant (the CRM's `/card/changeTemplate`). */
export async function changeCardTemplate(
  deps: CardsDeps,
  cardId: string,
  targetAlipayTemplateId: string,
  reason: string,
  actor: string,
): Promise<CardView> {
  const card = await repo.findCard(deps.db, cardId)
  if (!card || card.status !== 'active') {
    throw CardErrors.notFound(`card ${cardId} is not active`)
  }
  const target = await templateByAlipayId(deps, targetAlipayTemplateId)
  if (!target || target.merchantId !== card.merchant_id) {
    throw invalidFields('TEMPLATE_NOT_FOUND', [
      {
        field: 'targetTemplateId',
        message: `${targetAlipayTemplateId} is not a published template of this merchant`,
      },
    ])
  }
  checkLevel(target.spec.levels, card.level)
  const updated = await deps.db.transaction().execute(async (trx) => {
    const row = await repo.setState(
      trx,
      cardId,
      { templateId: target.id, alipayTemplateId: targetAlipayTemplateId },
      deps.clock.nowIso(),
    )
    if (!row) {
      throw CardErrors.notFound(`card ${cardId} is not active`)
    }
    await queuePush(trx, deps, row)
    await recordAudit(
      { ...deps, db: trx },
      {
        merchantId: card.merchant_id,
        actor,
        action: 'card.change_template',
        target: { type: 'card', id: cardId },
        before: { templateId: card.alipay_template_id },
        after: { templateId: targetAlipayTemplateId, reason },
      },
    )
    return row
  })
  return toCardView(updated)
}

/** Per-app pace for Alipay calls (Alipay limits calls per app): at most `perSecond`, smoothed. */
function createPacer(perSecond: number) {
  const next = new Map<string, number>()
  return async (key: string) => {
    const now = Date.now()
    const at = Math.max(now, next.get(key) ?? 0)
    next.set(key, at + 1000 / perSecond)
    if (at > now) {
      await new Promise((resolve) => setTimeout(resolve, at - now))
    }
  }
}

/**
 * The worker's deliveries for cards: the latest state to Alipay (`card.update`, read from the card
 * row at push time, so collapsed entries send the last state), and card changes to the CRM.
 */
export function cardOutboxHandlers(
  deps: CardsDeps,
  options: { alipayCallsPerSecond: number },
): Record<string, OutboxHandler> {
  const pace = createPacer(options.alipayCallsPerSecond)
  return {
    [CARD_PUSH_TOPIC]: async (entry: OutboxEntry) => {
      const { cardId } = entry.payload as CardPushPayload
      const card = await repo.findCard(deps.db, cardId)
      if (!card || card.status !== 'active' || card.pushed_version >= card.state_version) {
        return
      }
      const ctx = await alipayContext(deps, card.merchant_id)
      await pace(ctx.appId)
      await ctx.client.updateCard(
        {
          target_card_no: card.alipay_card_no,
          target_card_no_type: 'BIZ_CARD',
          occur_time: chinaTime(deps.clock.now()),
          card_info: {
            point: String(card.point),
            ...(card.level ? { level: card.level } : {}),
            ...(card.balance ? { balance: card.balance } : {}),
            template_id: card.alipay_template_id,
          },
        },
        { appAuthToken: ctx.appAuthToken },
      )
      await repo.markPushed(deps.db, card.id, card.state_version)
    },
    [CARD_CHANGE_TOPIC]: async (entry: OutboxEntry) => {
      const conn = await crmConnection(deps, entry.merchantId)
      // The merchant left CRM mode since: nobody to tell.
      if (!conn) {
        return
      }
      await deps.crm.cardChange(conn, entry.payload as CardChangePayload)
    },
  }
}
