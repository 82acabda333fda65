import { CardErrors } from './cards.errors.js'
import { chinaTime } from '../../shared/china-time.js'
import { invalidFields } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import { alipayContext, crmConnection, memberSystem } from '../merchants/index.js'
import {
  createSharedPacer,
  enqueue,
  notifyOutbox,
  type OutboxCompletion,
  type OutboxEntry,
  type OutboxHandler,
} from '../outbox/index.js'
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

/**
 * The group-commit key (db/group-commit.ts) of the writes to a card: the CRM names a card by its
 * merchant and card number, before the card is read, so that is the key; every group-committed
 * write to a card uses it, so one card's writes share a lane and two PostgreSQL transactions never
 * lock it at once.
 */
export function cardWriteKey(merchantId: string, bizCardNo: string): string {
  return `${merchantId}:${bizCardNo}`
}

/**
 * Queues the card's push to Alipay (collapsed per card: the worker sends the latest state). The
 * push waits `worker.cardPushSettleMs` after the change that queued it: the changes meanwhile ride
 * in the same push (a change joining a waiting push keeps its time), so a hot card costs one
 * `card.update` per settle time, not one per change. Call {@link notifyOutbox} after the commit.
 */
export async function queuePush(trx: Executor, deps: CardsDeps, card: CardRow): Promise<void> {
  const payload: CardPushPayload = { cardId: card.id }
  const settleMs = deps.config.worker.cardPushSettleMs
  await enqueue(
    { ...deps, db: trx },
    {
      merchantId: card.merchant_id,
      topic: CARD_PUSH_TOPIC,
      collapseKey: card.id,
      payload,
      ...(settleMs > 0
        ? { notBefore: new Date(deps.clock.now().getTime() + settleMs).toISOString() }
        : {}),
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
  notifyOutbox()
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
  /**
   * Inside a transaction that changes the card: `lock` makes the read the card's lock (PostgreSQL
   * `for update`; on SQLite the transaction already excludes every other writer), so the change
   * can skip `lockCard` (`setCardStateIn(…, { locked: true })`).
   */
  options: { lock?: 'postgres' | 'sqlite' } = {},
): Promise<CardView> {
  const forUpdate = options.lock === 'postgres'
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
      alipayTemplateId,
      bizCardNo,
      forUpdate,
    )) ??
    (await repo.findActiveByBizCardNo(
      deps.db,
      template.merchantId,
      undefined,
      bizCardNo,
      forUpdate,
    ))
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
  const updated = await deps.db
    .transaction()
    .execute((trx) => writeCardState({ ...deps, db: trx }, current, change, false))
  notifyOutbox()
  return updated
}

/**
 * `setCardState` inside a transaction the caller holds (the CRM's `/card/update` runs it in a
 * group commit, db/group-commit.ts): `card` is the active card as read in that transaction.
 */
export async function setCardStateIn(
  trx: CardsDeps,
  card: CardView,
  change: StateChange,
  /** `card` was read with `findCardForCrm(…, { lock })` in this transaction: it is current. */
  options: { locked?: boolean } = {},
): Promise<CardView> {
  if (change.level !== undefined) {
    checkLevel((await getTemplate(trx, card.templateId)).spec.levels, change.level)
  }
  return writeCardState(trx, card, change, options.locked ?? false)
}

/** The change itself, in the transaction `deps.db`; may run again from scratch (group commit). */
async function writeCardState(
  deps: CardsDeps,
  current: CardView,
  change: StateChange,
  locked: boolean,
): Promise<CardView> {
  const trx = deps.db
  const cardId = current.id
  const now = deps.clock.nowIso()
  // Lock first: two concurrent updates must not both compute their delta from the same old value.
  const fresh = locked ? undefined : await repo.lockCard(trx, cardId)
  if (!locked && !fresh) {
    throw CardErrors.notFound(`card ${cardId} is not active`)
  }
  const freshPoint = fresh ? Number(fresh.point) : current.point
  const delta = change.point !== undefined ? change.point - freshPoint : 0
  const first = await repo.insertEntryOnce(trx, {
    id: deps.ids.next('pe'),
    merchant_id: current.merchantId,
    card_id: cardId,
    delta,
    point_after: change.point ?? freshPoint,
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
    return fresh ? toCardView(fresh) : current
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
  return toCardView(row)
}

/**
 * Adds (or with a negative delta, takes) points: kaguan's own ledger in no-CRM mode. Refuses to go
 * below zero; the same idempotency key returns the first result and changes nothing.
 */
export async function adjustPoints(
  deps: CardsDeps,
  cardId: string,
  input: AdjustPoints,
): Promise<{ card: CardView; replayed: boolean }> {
  checkDelta(input.delta)
  const card = await repo.findCard(deps.db, cardId)
  if (!card || card.status !== 'active') {
    throw CardErrors.notFound(`card ${cardId} is not active`)
  }
  const result = await deps.db
    .transaction()
    .execute((trx) => adjustPointsIn({ ...deps, db: trx }, toCardView(card), input))
  if (!result.replayed) {
    notifyOutbox()
  }
  return result
}

export interface AdjustPoints {
  delta: number
  reason: string
  source: string
  idempotencyKey: string
  /** Who asked, when it is a person: the change is written to the audit log. */
  audit?: { actor: string; requestId?: string }
}

function checkDelta(delta: number): void {
  if (!Number.isSafeInteger(delta) || delta === 0) {
    throw invalidFields('POINTS_INVALID', [
      { field: 'delta', message: 'must be a non-zero whole number' },
    ])
  }
}

/**
 * `adjustPoints` inside a transaction the caller holds (the signed `/api/points/adjust` runs it
 * in a group commit); `card` is the active card as the caller read it. May run again from scratch.
 */
export async function adjustPointsIn(
  deps: CardsDeps,
  card: CardView,
  input: AdjustPoints,
): Promise<{ card: CardView; replayed: boolean }> {
  checkDelta(input.delta)
  const cardId = card.id
  if ((await memberSystem(deps, card.merchantId)).mode === 'crm') {
    // The CRM's next /card/update would overwrite the change without a trace on its side.
    throw CardErrors.pointsOwnedByCrm()
  }
  // The key is decided inside the transaction, after the card's lock: a twin still running holds
  // the lock, and once it commits this sees its entry and replays instead of refusing.
  const trx = deps.db
  await repo.lockCard(trx, cardId)
  const earlier = await repo.findEntry(trx, card.merchantId, input.source, input.idempotencyKey)
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
    merchant_id: card.merchantId,
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
    await recordAudit(deps, {
      merchantId: card.merchantId,
      actor: input.audit.actor,
      action: 'card.adjust_points',
      target: { type: 'card', id: cardId },
      before: { point: Number(row.point) - input.delta },
      after: { point: Number(row.point), delta: input.delta, reason: input.reason },
      ...(input.audit.requestId ? { requestId: input.audit.requestId } : {}),
    })
  }
  return { card: toCardView(row), replayed: false }
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
  const updated = await deps.db
    .transaction()
    .execute((trx) =>
      changeCardTemplateIn(
        { ...deps, db: trx },
        toCardView(card),
        targetAlipayTemplateId,
        reason,
        actor,
      ),
    )
  notifyOutbox()
  return updated
}

/**
 * `changeCardTemplate` inside a transaction the caller holds (the CRM's `/card/changeTemplate`
 * runs it in a group commit); `card` is the active card as read in it. May run again from scratch.
 */
export async function changeCardTemplateIn(
  deps: CardsDeps,
  card: CardView,
  targetAlipayTemplateId: string,
  reason: string,
  actor: string,
): Promise<CardView> {
  const target = await templateByAlipayId(deps, targetAlipayTemplateId)
  if (!target || target.merchantId !== card.merchantId) {
    throw invalidFields('TEMPLATE_NOT_FOUND', [
      {
        field: 'targetTemplateId',
        message: `${targetAlipayTemplateId} is not a published template of this merchant`,
      },
    ])
  }
  checkLevel(target.spec.levels, card.level)
  const row = await repo.setState(
    deps.db,
    card.id,
    { templateId: target.id, alipayTemplateId: targetAlipayTemplateId },
    deps.clock.nowIso(),
  )
  if (!row) {
    throw CardErrors.notFound(`card ${card.id} is not active`)
  }
  await queuePush(deps.db, deps, row)
  await recordAudit(deps, {
    merchantId: card.merchantId,
    actor,
    action: 'card.change_template',
    target: { type: 'card', id: card.id },
    before: { templateId: card.alipayTemplateId },
    after: { templateId: targetAlipayTemplateId, reason },
  })
  return toCardView(row)
}

/**
 * The worker's deliveries for cards: the latest state to Alipay (`card.update`, read from the card
 * row at push time, so collapsed entries send the last state), and card changes to the CRM.
 */
export function cardOutboxHandlers(
  deps: CardsDeps,
  options: { alipayCallsPerSecond: number },
): Record<string, OutboxHandler> {
  // Alipay limits calls per app, whichever process makes them: the pace is kept in the database.
  const pacer = createSharedPacer(deps, { perSecond: options.alipayCallsPerSecond })
  return {
    [CARD_PUSH_TOPIC]: async (entry: OutboxEntry): Promise<OutboxCompletion | undefined> => {
      const { cardId } = entry.payload as CardPushPayload
      const card = await repo.findCard(deps.db, cardId)
      if (!card || card.status !== 'active' || card.pushed_version >= card.state_version) {
        return undefined
      }
      const ctx = await alipayContext(deps, card.merchant_id)
      await pacer.wait(`alipay:${ctx.appId}`)
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
      // Committed with the entry's completion (one commit, not two): a crash before it only means
      // the push is sent again, and markPushed never lowers the version.
      return {
        key: cardWriteKey(card.merchant_id, card.biz_card_no),
        write: (trx) => repo.markPushed(trx, card.id, card.state_version),
      }
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
