import type { StampsDeps } from './stamps.deps.js'
import type { Executor } from '../../db/db.js'
import type { AppDeps } from '../../deps.js'
import { chinaTime } from '../../shared/china-time.js'
import { activeCardsOf } from '../cards/index.js'
import { alipayContext } from '../merchants/index.js'
import { enqueue, type OutboxEntry, type OutboxHandler } from '../outbox/index.js'
import { toActivity } from './activity.service.js'
import { expiryOutboxHandlers } from './expiry.service.js'
import { mirrorOutboxHandlers } from './mirror.service.js'
import * as repo from './stamps.repository.js'
import { stampColumn } from './stamps.rules.js'
import type { LedgerOptions } from './stamps.service.js'

/** Outbox topic: show a member's stamps on their Alipay cards (`card.update`, `front_text_list`). */
export const STAMPS_CARD_TOPIC = 'alipay.stampsCardPush'

export interface StampsCardPayload {
  memberId: string
}

/** The card column's label. */
export const STAMP_COLUMN_LABEL = '集点'

/**
 * Ledger options that queue the member's card column push inside the entry's transaction. One
 * pending push per member (collapse key): a burst of stamps makes one `card.update` with the last
 * state, read when the worker sends it — the way points collapse.
 */
export function withCardPush(
  deps: Pick<AppDeps, 'clock' | 'ids'>,
  inner: LedgerOptions = {},
): LedgerOptions {
  return {
    onApplied: async (trx: Executor, result) => {
      await inner.onApplied?.(trx, result)
      const account = await repo.findAccount(trx, result.entry.accountId)
      if (!account) {
        return
      }
      const payload: StampsCardPayload = { memberId: account.member_id }
      await enqueue(
        { ...deps, db: trx },
        {
          merchantId: account.merchant_id,
          topic: STAMPS_CARD_TOPIC,
          collapseKey: `stamps:${account.member_id}`,
          payload,
        },
      )
    },
  }
}

/** The column text of a member now: the latest published stamp activity's `available/complete`. */
export async function stampColumnOf(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  memberId: string,
): Promise<string | undefined> {
  const db = deps.db
  const activities = (
    await repo.listActivities(db, merchantId, { status: 'published', type: 'POINT_SEND' })
  ).map(toActivity)
  const activity = activities.at(-1)
  if (!activity || activity.type !== 'POINT_SEND') {
    return undefined
  }
  const account = await repo.findAccountOf(db, merchantId, memberId, activity.id)
  return stampColumn(Number(account?.available ?? 0), activity.spec.stampsToComplete)
}

/** The stamps module's outbox topics: the card column, the expiry reminder, the Koubei mirror. */
export function stampsOutboxHandlers(deps: StampsDeps): Record<string, OutboxHandler> {
  return {
    ...expiryOutboxHandlers(deps),
    ...mirrorOutboxHandlers(deps),
    [STAMPS_CARD_TOPIC]: async (entry: OutboxEntry) => {
      const { memberId } = entry.payload as StampsCardPayload
      const value = await stampColumnOf(deps, entry.merchantId, memberId)
      if (value === undefined) {
        return
      }
      const cards = await activeCardsOf(deps, memberId)
      if (!cards.length) {
        return
      }
      const ctx = await alipayContext(deps, entry.merchantId)
      for (const card of cards) {
        await ctx.client.updateCard(
          {
            target_card_no: card.alipayCardNo,
            target_card_no_type: 'BIZ_CARD',
            occur_time: chinaTime(deps.clock.now()),
            card_info: { front_text_list: [{ label: STAMP_COLUMN_LABEL, value }] },
          },
          { appAuthToken: ctx.appAuthToken },
        )
      }
    },
  }
}
