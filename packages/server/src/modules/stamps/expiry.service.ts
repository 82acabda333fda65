import type { StampsDeps } from './stamps.deps.js'
import type { StampActivitySpec, StampExpiryRule } from '@kaguan/contracts'
import type { AppDeps } from '../../deps.js'
import { chinaDate, chinaDayStart, chinaTime } from '../../shared/china-time.js'
import { activeCardsOf } from '../cards/index.js'
import { alipayContext } from '../merchants/index.js'
import { enqueue, type OutboxEntry, type OutboxHandler } from '../outbox/index.js'
import { toActivity } from './activity.service.js'
import * as repo from './stamps.repository.js'
import { applyLedger, NothingToExpire, type LedgerOptions } from './stamps.service.js'

const DAY_MS = 86_400_000

/** Days before an expiry that the member is reminded, unless the activity says otherwise. */
export const DEFAULT_REMIND_DAYS = 3

/** Outbox topic: Alipay's POINT_REMIND message (`alipay.marketing.card.message.notify`). */
export const STAMPS_REMIND_TOPIC = 'alipay.stampsRemind'

export interface StampsRemindPayload {
  memberId: string
  /** The reminder's id: Alipay's `notify_no`, so a redelivery shows one message. */
  notifyNo: string
  amount: number
  /** ISO UTC. */
  expiresAt: string
}

/** One expiry moment: at `at`, what was earned before `earnedBefore` and is still there expires. */
interface Moment {
  at: Date
  earnedBefore: string
}

/** How many days before an expiry the reminder goes (0: none). */
export function remindDaysOf(rule: StampExpiryRule): number {
  if (rule.remindDaysBefore !== undefined) {
    return rule.remindDaysBefore
  }
  // A reminder must come after the stamps were earned: never as early as their whole life.
  return rule.type === 'AFTER_EARNED'
    ? Math.min(DEFAULT_REMIND_DAYS, Math.max(0, (rule.days ?? 1) - 1))
    : DEFAULT_REMIND_DAYS
}

/**
 * AFTER_EARNED `days`: stamps earned on a China-time day expire at the midnight that ends the
 * `days`-th day after it, so every expiry moment is a China midnight and a moment `m` takes what
 * was earned before `m - days`. ACTIVITY_END: one moment, `graceDays` after the activity's end,
 * taking everything earned before it.
 */
function momentOf(rule: StampExpiryRule, at: Date): Moment {
  if (rule.type === 'AFTER_EARNED') {
    const earnedBefore = new Date(at.getTime() - (rule.days ?? 1) * DAY_MS)
    return { at, earnedBefore: earnedBefore.toISOString() }
  }
  return { at, earnedBefore: at.toISOString() }
}

/** The latest China midnight at or before `now`. */
function midnightBefore(now: Date): Date {
  return chinaDayStart(chinaDate(now))!
}

/** The expiry moment that has passed (the latest one), if any. */
export function dueMoment(spec: StampActivitySpec, now: Date): Moment | undefined {
  const rule = spec.expiry
  if (!rule) {
    return undefined
  }
  if (rule.type === 'AFTER_EARNED') {
    return momentOf(rule, midnightBefore(now))
  }
  const end = new Date(new Date(spec.endTime).getTime() + (rule.graceDays ?? 0) * DAY_MS)
  return end <= now ? momentOf(rule, end) : undefined
}

/**
 * The expiry moments within the reminder window (now, now + remindDays], oldest first, and the
 * moment before the first (whose stamps are not this window's business).
 */
export function upcomingMoments(
  spec: StampActivitySpec,
  now: Date,
): { moments: Moment[]; before: Moment | undefined } {
  const rule = spec.expiry
  const days = rule ? remindDaysOf(rule) : 0
  if (!rule || days <= 0) {
    return { moments: [], before: undefined }
  }
  if (rule.type === 'AFTER_EARNED') {
    const last = midnightBefore(now)
    const moments: Moment[] = []
    for (let k = 1; k <= days; k++) {
      moments.push(momentOf(rule, new Date(last.getTime() + k * DAY_MS)))
    }
    return { moments, before: momentOf(rule, last) }
  }
  const end = new Date(new Date(spec.endTime).getTime() + (rule.graceDays ?? 0) * DAY_MS)
  const inWindow = now < end && end.getTime() <= now.getTime() + days * DAY_MS
  return { moments: inWindow ? [momentOf(rule, end)] : [], before: undefined }
}

async function expiringActivities(deps: Pick<AppDeps, 'db'>) {
  return (await repo.listLiveStampActivities(deps.db))
    .map(toActivity)
    .flatMap((a) => (a.type === 'POINT_SEND' && a.spec.expiry ? [{ ...a, spec: a.spec }] : []))
}

/**
 * The worker's expiry step: in every stamp activity with an expiry rule, each account's stamps
 * past their time leave with a CONSUME entry (source `expiry`). The key names the account, the
 * moment and the account's last entry, so a rerun or a second worker finds the key taken (or,
 * with a newer entry, counts again under the lock and finds nothing due): stamps expire once.
 * Bounded per activity per call; resolves to the number of stamps expired.
 */
export async function expireDueStamps(
  deps: StampsDeps,
  options: LedgerOptions = {},
  limit = 100,
): Promise<number> {
  const now = deps.clock.now()
  let expired = 0
  for (const activity of await expiringActivities(deps)) {
    const due = dueMoment(activity.spec, now)
    if (!due) {
      continue
    }
    const accounts = await repo.accountsWithStampsDue(deps.db, activity.id, due.earnedBefore, limit)
    for (const account of accounts) {
      try {
        const result = await applyLedger(
          deps,
          {
            type: 'EXPIRE',
            account: {
              merchantId: account.merchant_id,
              memberId: account.member_id,
              activityId: account.activity_id,
            },
            earnedBefore: due.earnedBefore,
          },
          {
            idempotencyKey: `expire:${account.id}:${due.at.toISOString()}:${account.last_seq}`,
            reason: `stamps earned before ${chinaTime(new Date(due.earnedBefore))} expired at ${chinaTime(due.at)}`,
            source: 'expiry',
            actor: 'system',
          },
          options,
        )
        if (!result.replayed) {
          expired += result.entry.amount
        }
      } catch (error) {
        if (!(error instanceof NothingToExpire)) {
          throw error
        }
      }
    }
  }
  return expired
}

/**
 * The worker's reminder step: for each expiry moment within the activity's reminder window, each
 * account with stamps that will expire then gets one POINT_REMIND through the outbox, naming the
 * stamps of that moment (what is still there of them, oldest spent first). A reminder row per
 * (account, moment), written in the outbox entry's transaction, makes it once per expiry.
 * Resolves to the number of reminders queued.
 */
export async function remindExpiringStamps(
  deps: Pick<AppDeps, 'db' | 'clock' | 'ids'>,
  limit = 100,
): Promise<number> {
  const now = deps.clock.now()
  let queued = 0
  for (const activity of await expiringActivities(deps)) {
    const { moments, before } = upcomingMoments(activity.spec, now)
    const last = moments.at(-1)
    if (!last) {
      continue
    }
    const accounts = await repo.accountsToRemind(
      deps.db,
      activity.id,
      last.earnedBefore,
      last.at.toISOString(),
      limit,
    )
    for (const account of accounts) {
      const frozen = Number(account.frozen)
      // Stamps of every moment up to m still there: earned before m's bound, minus what left.
      const stillThere = async (m: Moment | undefined) => {
        if (!m) {
          return 0
        }
        const t = await repo.expiryTotals(deps.db, account.id, m.earnedBefore)
        return Math.max(0, t.deposited - t.spent - frozen)
      }
      let previous = await stillThere(before)
      for (const moment of moments) {
        const upTo = await stillThere(moment)
        const amount = upTo - previous
        previous = upTo
        await deps.db.transaction().execute(async (trx) => {
          const id = deps.ids.next('srm')
          const fresh = await repo.insertReminder(trx, {
            id,
            merchant_id: account.merchant_id,
            account_id: account.id,
            expires_at: moment.at.toISOString(),
            amount,
            created_at: deps.clock.nowIso(),
          })
          if (!fresh || amount <= 0) {
            return
          }
          const payload: StampsRemindPayload = {
            memberId: account.member_id,
            notifyNo: id,
            amount,
            expiresAt: moment.at.toISOString(),
          }
          await enqueue(
            { ...deps, db: trx },
            {
              merchantId: account.merchant_id,
              topic: STAMPS_REMIND_TOPIC,
              payload,
            },
          )
          queued++
        })
      }
    }
  }
  return queued
}

/** The worker's delivery of a reminder to every active card of the member. */
export function expiryOutboxHandlers(
  deps: Pick<AppDeps, 'db' | 'dialect' | 'alipay' | 'clock' | 'ids' | 'cipher'>,
): Record<string, OutboxHandler> {
  return {
    [STAMPS_REMIND_TOPIC]: async (entry: OutboxEntry) => {
      const p = entry.payload as StampsRemindPayload
      const cards = await activeCardsOf(deps, p.memberId)
      if (!cards.length) {
        return
      }
      const ctx = await alipayContext(deps, entry.merchantId)
      for (const [i, card] of cards.entries()) {
        await ctx.client.notifyCardMessage(
          {
            target_card_no: card.alipayCardNo,
            target_card_no_type: 'BIZ_CARD',
            notify_type: 'POINT_REMIND',
            notify_info: JSON.stringify({
              expired_point: String(p.amount),
              expired_time: chinaTime(new Date(p.expiresAt)),
            }),
            // One message per card; the same number on a redelivery, so Alipay shows it once.
            notify_no: i === 0 ? p.notifyNo : `${p.notifyNo}-${i}`,
            occur_time: chinaTime(deps.clock.now()),
          },
          { appAuthToken: ctx.appAuthToken },
        )
      }
    },
  }
}
