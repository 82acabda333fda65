import { createSweeper, type Sweeper } from '../../shared/sweeper.js'
import type { PointExpiryRule } from '@kaguan/contracts'
import type { Logger } from '../../shared/log.js'
import { chinaDate, chinaDayStart, chinaTime } from '../../shared/china-time.js'
import { alipayContext, listMerchants, memberSystem } from '../merchants/index.js'
import { enqueue, type OutboxEntry, type OutboxHandler } from '../outbox/index.js'
import { listPublishedSpecs } from '../templates/index.js'
import { queuePush } from './card-state.service.js'
import type { CardsDeps } from './claim.service.js'
import * as repo from './cards.repository.js'

const DAY_MS = 86_400_000

/** Days before an expiry that the member is reminded, unless the template says otherwise. */
export const DEFAULT_POINT_REMIND_DAYS = 3

/** Outbox topic: Alipay's POINT_REMIND message (`alipay.marketing.card.message.notify`). */
export const POINTS_REMIND_TOPIC = 'alipay.pointsRemind'

/** The ledger source of an expiry entry. */
export const POINTS_EXPIRY_SOURCE = 'expiry'

export interface PointsRemindPayload {
  cardId: string
  /** The reminder's id: Alipay's `notify_no`, so a redelivery shows one message. */
  notifyNo: string
  amount: number
  /** ISO UTC. */
  expiresAt: string
}

export type PointsExpiryDeps = CardsDeps

/** One expiry moment: at `at`, the points earned before `earnedBefore` and still there expire. */
interface Moment {
  at: Date
  earnedBefore: string
}

/** How many days before an expiry the reminder goes (0: none). */
export function pointRemindDaysOf(rule: PointExpiryRule): number {
  if (rule.remindDaysBefore !== undefined) {
    return rule.remindDaysBefore
  }
  // A reminder must come after the points were earned: never as early as their whole life.
  return Math.min(DEFAULT_POINT_REMIND_DAYS, Math.max(0, (rule.days ?? 1) - 1))
}

/**
 * Points earned on a China-time day expire at the midnight that ends the `days`-th day after it:
 * every expiry moment is a China midnight, and a moment `m` takes what was earned before `m - days`.
 */
function momentOf(rule: PointExpiryRule, at: Date): Moment {
  return { at, earnedBefore: new Date(at.getTime() - (rule.days ?? 1) * DAY_MS).toISOString() }
}

/** The latest China midnight at or before `now`. */
function midnightBefore(now: Date): Date {
  return chinaDayStart(chinaDate(now))!
}

/** The templates (of merchants without a CRM) whose points expire, with their rule. */
async function expiringTemplates(
  deps: PointsExpiryDeps,
): Promise<{ merchantId: string; templateId: string; rule: PointExpiryRule }[]> {
  const found: { merchantId: string; templateId: string; rule: PointExpiryRule }[] = []
  for (const merchant of await listMerchants(deps)) {
    // In CRM mode the CRM owns points: kaguan neither expires them nor reminds.
    if ((await memberSystem(deps, merchant.id)).mode === 'crm') {
      continue
    }
    // The spec as published: a draft edited since does not change what the cards live by.
    for (const template of await listPublishedSpecs(deps, merchant.id)) {
      const rule = template.spec.pointExpiry
      if (rule?.days !== undefined) {
        found.push({ merchantId: merchant.id, templateId: template.id, rule })
      }
    }
  }
  return found
}

/**
 * Expires one card's points past the moment: one ledger entry (source `expiry`) under the card's
 * lock, keyed by the card and the moment, and the card push queued. The amount is counted under the
 * lock, oldest points spent first, so a rerun or a second worker finds the key taken or nothing due.
 * Resolves to the points expired (0: nothing, or already done).
 */
async function expireCard(deps: PointsExpiryDeps, cardId: string, due: Moment): Promise<number> {
  return deps.db.transaction().execute(async (trx) => {
    const card = await repo.lockCard(trx, cardId)
    if (!card || card.status !== 'active') {
      return 0
    }
    const key = `expire:${cardId}:${due.at.toISOString()}`
    if (await repo.findEntry(trx, card.merchant_id, POINTS_EXPIRY_SOURCE, key)) {
      return 0
    }
    const totals = await repo.pointExpiryTotals(trx, cardId, due.earnedBefore)
    const amount = Math.min(Number(card.point), totals.earned - totals.spent)
    if (amount <= 0) {
      return 0
    }
    const now = deps.clock.nowIso()
    const row = await repo.addPoints(trx, cardId, -amount, now)
    if (!row) {
      return 0
    }
    const first = await repo.insertEntryOnce(trx, {
      id: deps.ids.next('pe'),
      merchant_id: card.merchant_id,
      card_id: cardId,
      delta: -amount,
      point_after: Number(row.point),
      reason: `points earned before ${chinaTime(new Date(due.earnedBefore))} expired at ${chinaTime(due.at)}`,
      source: POINTS_EXPIRY_SOURCE,
      idempotency_key: key,
      created_at: now,
    })
    if (!first) {
      // A twin committed the same expiry first: this transaction's change is thrown away.
      throw new ExpiryRaced()
    }
    await queuePush(trx, deps, row)
    return amount
  })
}

class ExpiryRaced extends Error {
  constructor() {
    super('another worker expired these points first')
  }
}

/**
 * The worker's expiry step (no-CRM mode): in every template with a `pointExpiry` rule, each card's
 * points past their time leave with one ledger entry (source `expiry`) and the card push is queued.
 * Bounded per template per call; resolves to the number of points expired.
 */
export async function expireDuePoints(deps: PointsExpiryDeps, limit = 100): Promise<number> {
  const now = deps.clock.now()
  let expired = 0
  for (const template of await expiringTemplates(deps)) {
    const due = momentOf(template.rule, midnightBefore(now))
    const cards = await repo.cardsWithPointsDue(
      deps.db,
      template.templateId,
      due.earnedBefore,
      limit,
    )
    for (const card of cards) {
      try {
        expired += await expireCard(deps, card.id, due)
      } catch (error) {
        if (!(error instanceof ExpiryRaced)) {
          throw error
        }
      }
    }
  }
  return expired
}

/**
 * The worker's reminder step: for each expiry moment within the template's reminder window, each
 * card with points that will expire then gets one POINT_REMIND through the outbox, naming the
 * points of that moment (what is still there of them, oldest spent first). A reminder row per
 * (card, moment), written in the outbox entry's transaction, makes it once per expiry.
 * Resolves to the number of reminders queued.
 */
export async function remindExpiringPoints(deps: PointsExpiryDeps, limit = 100): Promise<number> {
  const now = deps.clock.now()
  let queued = 0
  for (const template of await expiringTemplates(deps)) {
    const days = pointRemindDaysOf(template.rule)
    if (days <= 0) {
      continue
    }
    const last = midnightBefore(now)
    const before = momentOf(template.rule, last)
    const moments: Moment[] = []
    for (let k = 1; k <= days; k++) {
      moments.push(momentOf(template.rule, new Date(last.getTime() + k * DAY_MS)))
    }
    const latest = moments.at(-1)!
    const cards = await repo.cardsToRemind(
      deps.db,
      template.templateId,
      latest.earnedBefore,
      latest.at.toISOString(),
      limit,
    )
    for (const card of cards) {
      // Points of every moment up to m still there: earned before m's bound, minus what left.
      const stillThere = async (m: Moment) => {
        const t = await repo.pointExpiryTotals(deps.db, card.id, m.earnedBefore)
        return Math.max(0, t.earned - t.spent)
      }
      let previous = await stillThere(before)
      for (const moment of moments) {
        const upTo = await stillThere(moment)
        const amount = upTo - previous
        previous = upTo
        await deps.db.transaction().execute(async (trx) => {
          const id = deps.ids.next('prm')
          const fresh = await repo.insertPointReminder(trx, {
            id,
            merchant_id: card.merchant_id,
            card_id: card.id,
            expires_at: moment.at.toISOString(),
            amount,
            created_at: deps.clock.nowIso(),
          })
          if (!fresh || amount <= 0) {
            return
          }
          const payload: PointsRemindPayload = {
            cardId: card.id,
            notifyNo: id,
            amount,
            expiresAt: moment.at.toISOString(),
          }
          await enqueue(
            { ...deps, db: trx },
            { merchantId: card.merchant_id, topic: POINTS_REMIND_TOPIC, payload },
          )
          queued++
        })
      }
    }
  }
  return queued
}

/** The worker's delivery of a points reminder to its card. */
export function pointsExpiryOutboxHandlers(deps: PointsExpiryDeps): Record<string, OutboxHandler> {
  return {
    [POINTS_REMIND_TOPIC]: async (entry: OutboxEntry) => {
      const p = entry.payload as PointsRemindPayload
      const card = await repo.findCard(deps.db, p.cardId)
      if (!card || card.status !== 'active') {
        return
      }
      const ctx = await alipayContext(deps, entry.merchantId)
      await ctx.client.notifyCardMessage(
        {
          target_card_no: card.alipay_card_no,
          target_card_no_type: 'BIZ_CARD',
          notify_type: 'POINT_REMIND',
          notify_info: JSON.stringify({
            expired_point: String(p.amount),
            expired_time: chinaTime(new Date(p.expiresAt)),
          }),
          notify_no: p.notifyNo,
          occur_time: chinaTime(deps.clock.now()),
        },
        { appAuthToken: ctx.appAuthToken },
      )
    },
  }
}

/** Expires the points past their time and queues the reminders; resolves to points expired. */
export type PointsExpirySweeper = Sweeper

/**
 * The worker's periodic job for card points expiry (no-CRM mode), beside the stamp hold sweeper.
 * Expiry moments are China midnights: a sweep every minute or so is soon enough. Several workers
 * may sweep at once (the expiry key is per card and moment, the reminder row per card and moment).
 */
export function createPointsExpirySweeper(
  deps: PointsExpiryDeps & { log: Logger },
  options: { everyMs: number },
): PointsExpirySweeper {
  return createSweeper({
    name: 'points expiry sweep',
    everyMs: options.everyMs,
    log: deps.log,
    sweep: async () => {
      const expired = await expireDuePoints(deps)
      const reminded = await remindExpiringPoints(deps)
      if (expired || reminded) {
        deps.log.info({ expired, reminded }, 'card points expired and expiries reminded')
      }
      return expired
    },
  })
}
