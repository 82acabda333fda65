import type { DatabaseDialect } from '../../config.js'
import type { Executor } from '../../db/db.js'
import { chinaDayStart, lastChinaDays } from '../../shared/china-time.js'
import type { Clock } from '../../shared/clock.js'
import * as repo from './cards.repository.js'
import { claimRefusals } from './claim-limits.service.js'

/** What the dashboard shows of a merchant's cards over its last `days` China-time days. */
export interface CardStats {
  /** Cards opened (claims that succeeded) per day, oldest first, days without any included. */
  claimsPerDay: { date: string; count: number }[]
  /** Cards active now. */
  activeCards: number
  /** Points added by ledger entries in the period. */
  pointsIssued: number
  /** Points taken away (spent, corrected) by ledger entries in the period. */
  pointsRedeemed: number
  /** The latest failed claims, newest first, whenever they were. */
  recentClaimFailures: { at: string; errcode: string; reason: string; memberRef?: string }[]
  /** Claims refused by a claim limit or a block in the period, per reason. */
  claimRefusals: { errcode: string; count: number }[]
}

const RECENT_FAILURES = 10

export async function cardStats(
  deps: { db: Executor; dialect: DatabaseDialect; clock: Clock },
  merchantId: string,
  days: number,
): Promise<CardStats> {
  const dates = lastChinaDays(deps.clock.now(), days)
  const since = chinaDayStart(dates[0]!)!.toISOString()
  const [perDay, activeCards, points, failures, refusals] = await Promise.all([
    repo.countOpenedPerDay(deps.db, deps.dialect, merchantId, since),
    repo.countActive(deps.db, merchantId),
    repo.sumPointsSince(deps.db, merchantId, since),
    repo.listFailedClaims(deps.db, merchantId, RECENT_FAILURES),
    claimRefusals(deps, merchantId, since),
  ])
  const byDay = new Map(perDay.map((d) => [d.day, d.n]))
  return {
    claimsPerDay: dates.map((date) => ({ date, count: byDay.get(date) ?? 0 })),
    activeCards,
    pointsIssued: points.issued,
    pointsRedeemed: points.redeemed,
    recentClaimFailures: failures.map((c) => ({
      at: c.updated_at,
      errcode: c.error_code ?? 'CLAIM_FAILED',
      reason: c.error_message ?? '',
      ...(c.alipay_user_id ? { memberRef: c.alipay_user_id } : {}),
    })),
    claimRefusals: refusals,
  }
}
