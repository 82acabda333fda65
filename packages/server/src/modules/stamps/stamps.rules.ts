import type { EarningRule } from '@kaguan/contracts'

/** Yuan text (`12.5`, `9.90`) to whole fen, without floating-point drift. */
export function toFen(yuan: string): number {
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(yuan.trim())
  if (!m) {
    return Number.NaN
  }
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

export interface TradeFacts {
  /** What the buyer paid, in yuan (`total_amount`). */
  amount: string
  /** kaguan's shop id of the trade, when known. */
  shopId?: string | undefined
}

/**
 * The stamps one trade earns under an activity's rule (pure; the ledger does the rest):
 * nothing below the minimum amount or outside the rule's shops (a trade whose shop is unknown
 * does not earn where the rule names shops); one stamp, or `stamps` per full `amount` step;
 * never more than what is left of the member's daily cap.
 */
export function stampsForTrade(
  rule: EarningRule,
  activityShopIds: readonly string[],
  trade: TradeFacts,
  earnedToday: number,
): number {
  const paid = toFen(trade.amount)
  if (!Number.isFinite(paid) || paid <= 0) {
    return 0
  }
  if (rule.minAmount !== undefined && paid < toFen(rule.minAmount)) {
    return 0
  }
  const shops = rule.shopIds?.length ? rule.shopIds : activityShopIds
  if (shops.length && (!trade.shopId || !shops.includes(trade.shopId))) {
    return 0
  }
  let stamps = 1
  if (rule.perAmountStep) {
    const step = toFen(rule.perAmountStep.amount)
    stamps = step > 0 ? Math.floor(paid / step) * rule.perAmountStep.stamps : 0
  }
  if (rule.maxPerDay !== undefined) {
    stamps = Math.min(stamps, Math.max(0, rule.maxPerDay - earnedToday))
  }
  return stamps
}

/** Midnight China time (UTC+8) of the day `now` falls in, as ISO UTC: where "today" starts. */
export function chinaDayStart(now: Date): string {
  const shifted = new Date(now.getTime() + 8 * 3600_000)
  shifted.setUTCHours(0, 0, 0, 0)
  return new Date(shifted.getTime() - 8 * 3600_000).toISOString()
}

/** The card column text: `3/5`. */
export function stampColumn(available: number, stampsToComplete: number): string {
  return `${available}/${stampsToComplete}`
}
