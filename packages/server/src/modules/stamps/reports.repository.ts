import { sql } from 'kysely'
import type { Executor } from '../../db/db.js'
import type { StampAccountRow, StampHoldRow, StampHoldStatus } from './stamps.table.js'

/** Which holds a list shows: all of the merchant's, narrowed by status, activity or member. */
export interface HoldFilter {
  status?: StampHoldStatus
  /** The stamp activity (POINT_SEND) of the held account. */
  activityId?: string
  exchangeActivityId?: string
  memberId?: string
}

export const HOLD_SORT_COLUMN = {
  expiresAt: 'h.expires_at',
  createdAt: 'h.created_at',
} as const

function filtered(db: Executor, merchantId: string, by: HoldFilter) {
  let q = db
    .selectFrom('stamp_holds as h')
    .innerJoin('stamp_accounts as a', 'a.id', 'h.account_id')
    .where('h.merchant_id', '=', merchantId)
  if (by.status) {
    q = q.where('h.status', '=', by.status)
  }
  if (by.activityId) {
    q = q.where('a.activity_id', '=', by.activityId)
  }
  if (by.exchangeActivityId) {
    q = q.where('h.exchange_activity_id', '=', by.exchangeActivityId)
  }
  if (by.memberId) {
    q = q.where('a.member_id', '=', by.memberId)
  }
  return q
}

/** One page of holds with the member and stamp activity of their account, and the total. */
export async function pageHolds(
  db: Executor,
  merchantId: string,
  by: HoldFilter,
  request: {
    sort: keyof typeof HOLD_SORT_COLUMN
    order: 'asc' | 'desc'
    offset: number
    limit: number
  },
): Promise<{ rows: (StampHoldRow & { member_id: string; activity_id: string })[]; total: number }> {
  const rows = await filtered(db, merchantId, by)
    .selectAll('h')
    .select(['a.member_id', 'a.activity_id'])
    .orderBy(HOLD_SORT_COLUMN[request.sort], request.order)
    .orderBy('h.id', request.order)
    .limit(request.limit)
    .offset(request.offset)
    .execute()
  const count = await filtered(db, merchantId, by)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return { rows, total: Number(count.n) }
}

/** Which accounts a list shows: the merchant's, narrowed by stamp activity or member. */
export interface AccountFilter {
  activityId?: string
  memberId?: string
}

export const ACCOUNT_SORT_COLUMN = {
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  available: 'available',
  earned: 'earned',
} as const

function filteredAccounts(db: Executor, merchantId: string, by: AccountFilter) {
  let q = db.selectFrom('stamp_accounts').where('merchant_id', '=', merchantId)
  if (by.activityId) {
    q = q.where('activity_id', '=', by.activityId)
  }
  if (by.memberId) {
    q = q.where('member_id', '=', by.memberId)
  }
  return q
}

/** One page of stamp accounts, and the total the filter matches. */
export async function pageAccounts(
  db: Executor,
  merchantId: string,
  by: AccountFilter,
  request: {
    sort: keyof typeof ACCOUNT_SORT_COLUMN
    order: 'asc' | 'desc'
    offset: number
    limit: number
  },
): Promise<{ rows: StampAccountRow[]; total: number }> {
  const rows = await filteredAccounts(db, merchantId, by)
    .selectAll()
    .orderBy(ACCOUNT_SORT_COLUMN[request.sort], request.order)
    .orderBy('id', request.order)
    .limit(request.limit)
    .offset(request.offset)
    .execute()
  const count = await filteredAccounts(db, merchantId, by)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return { rows, total: Number(count.n) }
}

/**
 * Stamps deposited, and stamps spent (exchanged: COMMIT; taken: CONSUME), by entries since `since`
 * (ISO), summed by the database.
 */
export async function sumStampsSince(
  db: Executor,
  merchantId: string,
  since: string,
): Promise<{ issued: number; redeemed: number }> {
  const r = await db
    .selectFrom('stamp_entries')
    .select([
      sql<number>`coalesce(sum(case when type = 'DEPOSIT' then amount else 0 end), 0)`.as('issued'),
      sql<number>`coalesce(sum(case when type in ('COMMIT', 'CONSUME') then amount else 0 end), 0)`.as(
        'redeemed',
      ),
    ])
    .where('merchant_id', '=', merchantId)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow()
  return { issued: Number(r.issued), redeemed: Number(r.redeemed) }
}
