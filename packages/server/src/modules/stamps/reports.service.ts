import type { AppDeps } from '../../deps.js'
import { chinaDayStart, lastChinaDays } from '../../shared/china-time.js'
import { offsetOf, pageOf, type Page, type PageRequest } from '../../shared/paging.js'
import * as repo from './reports.repository.js'
import {
  toAccountView,
  toHoldView,
  type StampAccountView,
  type StampHoldView,
} from './stamps.service.js'

export type { AccountFilter, HoldFilter } from './reports.repository.js'
export type HoldSort = keyof typeof repo.HOLD_SORT_COLUMN
export type AccountSort = keyof typeof repo.ACCOUNT_SORT_COLUMN

/** A hold in a list: whose (member) and in which stamp activity. */
export interface StampHoldListItem extends StampHoldView {
  memberId: string
  activityId: string
}

/**
 * The merchant's holds, paged: with `status: 'held'` the exchanges in progress (stamps frozen,
 * waiting for the coupon claim until `expiresAt`), soonest to expire first by default.
 */
export async function listHolds(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  filter: repo.HoldFilter,
  request: PageRequest<HoldSort>,
): Promise<Page<StampHoldListItem>> {
  const { rows, total } = await repo.pageHolds(deps.db, merchantId, filter, {
    sort: request.sort,
    order: request.order,
    offset: offsetOf(request),
    limit: request.pageSize,
  })
  return pageOf(
    rows.map((row) => ({
      ...toHoldView(row),
      memberId: row.member_id,
      activityId: row.activity_id,
    })),
    total,
    request,
  )
}

/** The merchant's stamp accounts (member × stamp activity), paged; oldest first by default. */
export async function pageAccounts(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  filter: repo.AccountFilter,
  request: PageRequest<AccountSort>,
): Promise<Page<StampAccountView>> {
  const { rows, total } = await repo.pageAccounts(deps.db, merchantId, filter, {
    sort: request.sort,
    order: request.order,
    offset: offsetOf(request),
    limit: request.pageSize,
  })
  return pageOf(rows.map(toAccountView), total, request)
}

/** Stamps issued and redeemed over the merchant's last `days` China-time days (the dashboard). */
export async function stampStats(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  merchantId: string,
  days: number,
): Promise<{ stampsIssued: number; stampsRedeemed: number }> {
  const dates = lastChinaDays(deps.clock.now(), days)
  const since = chinaDayStart(dates[0]!)!.toISOString()
  const sums = await repo.sumStampsSince(deps.db, merchantId, since)
  return { stampsIssued: sums.issued, stampsRedeemed: sums.redeemed }
}
