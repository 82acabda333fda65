import type { StampsDeps } from './stamps.deps.js'
import type { ToolPointsUpdate } from '@kaguan/alipay'
import type { Executor } from '../../db/db.js'
import type { AppDeps } from '../../deps.js'
import { pageMembers } from '../members/index.js'
import { alipayContext } from '../merchants/index.js'
import {
  enqueue,
  listOutbox,
  OutboxStatus,
  type OutboxEntry,
  type OutboxHandler,
} from '../outbox/index.js'
import { findShops } from '../shops/index.js'
import * as repo from './stamps.repository.js'
import type { StampActivityRow, StampEntryRow } from './stamps.table.js'

/** Outbox topic: one ledger entry mirrored with `koubei.marketing.tool.points.update`. */
export const STAMPS_MIRROR_TOPIC = 'koubei.stampsMirror'

export interface StampsMirrorPayload {
  entryId: string
  accountId: string
}

/** A stamp activity bound to Koubei: its ledger changes are mirrored there. */
export function isMirrored(activity: StampActivityRow | undefined): activity is StampActivityRow {
  return activity?.type === 'POINT_SEND' && Boolean(activity.alipay_camp_id)
}

/** Koubei's point account of a mirrored activity (the camp id when the query named none). */
function koubeiAccountOf(activity: StampActivityRow): string {
  return activity.koubei_account ?? activity.alipay_camp_id!
}

/**
 * Queues the mirror of one ledger entry, in the entry's transaction. Ordered per account (the
 * order key): Koubei refuses a COMMIT before its FREEZE or a CONSUME of stamps it has not seen.
 * An entry that moved nothing (a take-back that found no stamps) has nothing to mirror.
 */
export async function queueMirror(
  trx: Executor,
  deps: Pick<AppDeps, 'clock' | 'ids'>,
  entry: StampEntryRow,
): Promise<void> {
  if (Number(entry.amount) <= 0) {
    return
  }
  const account = await repo.findAccount(trx, entry.account_id)
  const activity = account && (await repo.findActivity(trx, account.activity_id))
  if (!isMirrored(activity)) {
    return
  }
  const payload: StampsMirrorPayload = { entryId: entry.id, accountId: entry.account_id }
  await enqueue(
    { ...deps, db: trx },
    {
      merchantId: entry.merchant_id,
      topic: STAMPS_MIRROR_TOPIC,
      orderKey: entry.account_id,
      payload,
    },
  )
}

async function alipayUserOf(
  deps: StampsDeps,
  merchantId: string,
  memberId: string,
): Promise<string | undefined> {
  const { items } = await pageMembers(
    deps,
    merchantId,
    { memberIds: [memberId] },
    { page: 1, pageSize: 1, sort: 'createdAt', order: 'desc' },
  )
  return items[0]?.alipayUserId
}

/** The worker's delivery: `points.update` with the entry's idempotency key as `req_id`. */
export function mirrorOutboxHandlers(deps: StampsDeps): Record<string, OutboxHandler> {
  return {
    [STAMPS_MIRROR_TOPIC]: async (outbox: OutboxEntry) => {
      const { entryId } = outbox.payload as StampsMirrorPayload
      const db = deps.db
      const entry = await repo.findEntry(db, entryId)
      const account = entry && (await repo.findAccount(db, entry.account_id))
      const activity = account && (await repo.findActivity(db, account.activity_id))
      if (!entry || !account || !isMirrored(activity)) {
        return
      }
      const userId = await alipayUserOf(deps, entry.merchant_id, account.member_id)
      if (!userId) {
        return
      }
      const biz: ToolPointsUpdate = {
        req_id: entry.idempotency_key,
        user_id: userId,
        activity_account: koubeiAccountOf(activity),
        trans_type: entry.type,
        trans_amount: String(entry.amount),
        memo: entry.reason.slice(0, 64),
      }
      if (entry.type === 'DEPOSIT') {
        // Koubei wants the trade and a shop; kaguan's ledger keeps neither for an admin deposit.
        biz.biz_no = entry.biz_no ?? entry.id
        const spec = JSON.parse(activity.spec_json) as { shopIds: string[] }
        const [shop] = await findShops(deps, entry.merchant_id, spec.shopIds.slice(0, 1))
        if (shop?.alipayShopId) {
          biz.shop_id = shop.alipayShopId
        }
      }
      let hold
      if (entry.type === 'COMMIT' || entry.type === 'CANCEL') {
        hold = await repo.findHold(db, entry.hold_id!)
        if (!hold?.koubei_log_no) {
          // The FREEZE is mirrored first (same order key); without its number Koubei cannot match.
          throw new Error(`hold ${entry.hold_id} has no mirrored FREEZE yet`)
        }
        biz.biz_no = hold.koubei_log_no
      }
      const ctx = await alipayContext(deps, entry.merchant_id)
      const answer = await ctx.client.updateToolPoints(biz, { appAuthToken: ctx.appAuthToken })
      if (entry.type === 'FREEZE') {
        const frozen = await repo.findHoldByFreeze(db, entry.id)
        if (frozen) {
          await repo.setHoldKoubeiLogNo(db, frozen.id, answer.point_log_no)
        }
      }
    },
  }
}

export interface StampsDrift {
  accountId: string
  memberId: string
  activityId: string
  kaguan: { total: number; available: number; frozen: number }
  koubei: { total: number; available: number; frozen: number }
}

export interface StampsReconcileReport {
  checked: number
  inStep: number
  drift: StampsDrift[]
  /** Accounts with mirror entries still on their way: not compared this time. */
  inFlight: number
  failed: { accountId: string; error: string }[]
}

/**
 * `kaguan reconcile`'s stamps check: every account of the merchant's Koubei-bound stamp activities
 * against `koubei.marketing.tool.points.query`. kaguan's ledger is the truth: a difference is
 * reported (total = stamps ever earned, available, frozen), not copied back.
 */
export async function reconcileStamps(
  deps: StampsDeps,
  merchantId: string,
  options: { limit?: number } = {},
): Promise<StampsReconcileReport> {
  const db = deps.db
  const report: StampsReconcileReport = {
    checked: 0,
    inStep: 0,
    drift: [],
    inFlight: 0,
    failed: [],
  }
  const activities = (await repo.listActivities(db, merchantId, { type: 'POINT_SEND' })).filter(
    (a) => isMirrored(a) && a.status !== 'draft',
  )
  if (!activities.length) {
    return report
  }
  const waiting = new Set<string>()
  for (const status of [OutboxStatus.Pending, OutboxStatus.Running]) {
    for (const item of await listOutbox(deps, {
      merchantId,
      status,
      topic: STAMPS_MIRROR_TOPIC,
      limit: 10_000,
    })) {
      waiting.add((item.payload as StampsMirrorPayload).accountId)
    }
  }
  const ctx = await alipayContext(deps, merchantId)
  const limit = options.limit ?? 10_000
  for (const activity of activities) {
    for (const account of await repo.listAccounts(
      db,
      merchantId,
      { activityId: activity.id },
      limit,
    )) {
      if (report.checked >= limit) {
        return report
      }
      if (waiting.has(account.id)) {
        report.inFlight++
        continue
      }
      report.checked++
      try {
        const userId = await alipayUserOf(deps, merchantId, account.member_id)
        if (!userId) {
          throw new Error(`member ${account.member_id} has no Alipay user id`)
        }
        const q = await ctx.client.queryToolPoints(
          { activity_account: koubeiAccountOf(activity), user_id: userId },
          { appAuthToken: ctx.appAuthToken },
        )
        const kaguan = {
          total: Number(account.earned),
          available: Number(account.available),
          frozen: Number(account.frozen),
        }
        const koubei = {
          total: Number(q.total_points ?? 0),
          available: Number(q.available_points ?? 0),
          frozen: Number(q.freezed_points ?? 0),
        }
        if (
          kaguan.total === koubei.total &&
          kaguan.available === koubei.available &&
          kaguan.frozen === koubei.frozen
        ) {
          report.inStep++
        } else {
          report.drift.push({
            accountId: account.id,
            memberId: account.member_id,
            activityId: activity.id,
            kaguan,
            koubei,
          })
        }
      } catch (error) {
        report.failed.push({
          accountId: account.id,
          error: error instanceof Error ? error.message : String(error),
        })
      }
    }
  }
  return report
}
