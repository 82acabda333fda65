import type { StampsDeps } from './stamps.deps.js'
import { pageMembers } from '../members/index.js'
import { listShops } from '../shops/index.js'
import { toActivity } from './activity.service.js'
import { StampErrors } from './stamps.errors.js'
import * as repo from './stamps.repository.js'
import { chinaDayStart, stampsForTrade } from './stamps.rules.js'
import { applyLedger, type LedgerOptions } from './stamps.service.js'
import type { StampEntryRow } from './stamps.table.js'

export interface TradeInput {
  merchantId: string
  tradeNo: string
  /** Yuan paid. */
  amount: string
  /** The member: kaguan's id, or found by Alipay user id. */
  memberId?: string
  alipayUserId?: string
  /** kaguan shop id, or the Alipay shop id (`store_id`) to match one. */
  shopId?: string
  alipayShopId?: string
  source: 'trade' | 'till'
  actor: string
}

export interface EarnedStamps {
  activityId: string
  accountId: string
  stamps: number
  available: number
  replayed: boolean
}

/** The member a trade names, or STAMPS_MEMBER_NOT_FOUND. */
export async function memberOfTrade(
  deps: StampsDeps,
  merchantId: string,
  ref: { memberId?: string; alipayUserId?: string },
): Promise<string> {
  const { items: found } = await pageMembers(
    deps,
    merchantId,
    {
      ...(ref.memberId ? { memberIds: [ref.memberId] } : {}),
      ...(ref.alipayUserId ? { alipayUserId: ref.alipayUserId } : {}),
    },
    { page: 1, pageSize: 1, sort: 'createdAt', order: 'desc' },
  )
  if (!found.length || (!ref.memberId && !ref.alipayUserId)) {
    throw StampErrors.memberNotFound(ref.memberId ?? ref.alipayUserId ?? '(none)')
  }
  return found[0]!.id
}

/**
 * Stamps for one trade in every published stamp activity running now, as each rule decides.
 * Idempotent by trade number: the key is `trade:<tradeNo>:<activity>`, whichever channel (Alipay's
 * notification or the till) reports it first; a repeat answers what the first earned.
 */
export async function earnForTrade(
  deps: StampsDeps,
  input: TradeInput,
  options: LedgerOptions = {},
): Promise<EarnedStamps[]> {
  const db = deps.db
  const memberId = await memberOfTrade(deps, input.merchantId, input)
  let shopId = input.shopId
  if (!shopId && input.alipayShopId) {
    shopId = (await listShops(deps, input.merchantId)).find(
      (s) => s.alipayShopId === input.alipayShopId,
    )?.id
  }
  const now = deps.clock.now()
  const running = (
    await repo.listActivities(db, input.merchantId, { status: 'published', type: 'POINT_SEND' })
  )
    .map(toActivity)
    .filter(
      (a) =>
        a.type === 'POINT_SEND' &&
        new Date(a.spec.startTime) <= now &&
        now < new Date(a.spec.endTime),
    )
  const earned: EarnedStamps[] = []
  for (const activity of running) {
    if (activity.type !== 'POINT_SEND') {
      continue
    }
    const key = `trade:${input.tradeNo}:${activity.id}`
    const earlier = await repo.findEntryByKey(db, input.merchantId, key)
    if (earlier) {
      earned.push(fromEntry(activity.id, earlier, true))
      continue
    }
    const account = await repo.findAccountOf(db, input.merchantId, memberId, activity.id)
    const today = account ? await repo.sumTradeDepositsSince(db, account.id, chinaDayStart(now)) : 0
    const stamps = stampsForTrade(
      activity.spec.rule,
      activity.spec.shopIds,
      { amount: input.amount, shopId },
      today,
    )
    if (stamps <= 0) {
      continue
    }
    try {
      const result = await applyLedger(
        deps,
        {
          type: 'DEPOSIT',
          account: { merchantId: input.merchantId, memberId, activityId: activity.id },
          amount: stamps,
          bizNo: input.tradeNo,
        },
        {
          idempotencyKey: key,
          reason: `trade ${input.tradeNo} ¥${input.amount}`,
          source: input.source,
          actor: input.actor,
        },
        options,
      )
      earned.push({
        activityId: activity.id,
        accountId: result.entry.accountId,
        stamps,
        available: result.balances.available,
        replayed: result.replayed,
      })
    } catch (error) {
      // A twin report of this trade won the race with a different count (the cap moved): its
      // entry is the answer.
      const won =
        (error as { code?: string }).code === 'STAMPS_IDEMPOTENCY_KEY_REUSED'
          ? await repo.findEntryByKey(db, input.merchantId, key)
          : undefined
      if (!won) {
        throw error
      }
      earned.push(fromEntry(activity.id, won, true))
    }
  }
  return earned
}

function fromEntry(activityId: string, entry: StampEntryRow, replayed: boolean): EarnedStamps {
  return {
    activityId,
    accountId: entry.account_id,
    stamps: Number(entry.amount),
    available: Number(entry.available_after),
    replayed,
  }
}

export interface TakenBack {
  accountId: string
  taken: number
  /** Stamps already spent: recorded, not taken (the balance never goes below zero). */
  shortfall: number
  replayed: boolean
}

/** A refunded trade gives back what it earned, in every account it earned in. */
export async function refundTrade(
  deps: StampsDeps,
  input: { merchantId: string; tradeNo: string; actor: string },
  options: LedgerOptions = {},
): Promise<TakenBack[]> {
  const db = deps.db
  const deposits = (await repo.entriesForBizNo(db, input.merchantId, input.tradeNo)).filter(
    (e) => e.type === 'DEPOSIT',
  )
  const out: TakenBack[] = []
  for (const deposit of deposits) {
    const account = (await repo.findAccount(db, deposit.account_id))!
    const result = await applyLedger(
      deps,
      {
        type: 'CONSUME',
        account: {
          merchantId: input.merchantId,
          memberId: account.member_id,
          activityId: account.activity_id,
        },
        amount: Number(deposit.amount),
        bizNo: input.tradeNo,
        allowShortfall: true,
      },
      {
        idempotencyKey: `refund:${input.tradeNo}:${deposit.account_id}`,
        reason: `refund of trade ${input.tradeNo}`,
        source: deposit.source,
        actor: input.actor,
      },
      options,
    )
    out.push({
      accountId: deposit.account_id,
      taken: result.entry.amount,
      shortfall: result.entry.shortfall,
      replayed: result.replayed,
    })
  }
  return out
}
