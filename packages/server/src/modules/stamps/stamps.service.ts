import type { StampsDeps } from './stamps.deps.js'
import { createHash } from 'node:crypto'
import type { Executor } from '../../db/db.js'
import type { AppDeps } from '../../deps.js'
import type { FieldProblem } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import { StampErrors } from './stamps.errors.js'
import { queueMirror } from './mirror.service.js'
import * as repo from './stamps.repository.js'
import type {
  StampAccountRow,
  StampEntryRow,
  StampEntryType,
  StampHoldRow,
  StampHoldStatus,
  StampSource,
} from './stamps.table.js'

/** What the ledger needs: the database (and its engine, for the row lock), time and ids. */

/** A member's stamps in one activity. `total` = `available` + `frozen`, what the member holds. */
export interface StampAccountView {
  id: string
  merchantId: string
  memberId: string
  activityId: string
  total: number
  available: number
  frozen: number
  /** Every stamp ever deposited (Koubei's 累计), never lowered. */
  earned: number
  updatedAt: string
}

export interface StampEntryView {
  id: string
  accountId: string
  seq: number
  type: StampEntryType
  amount: number
  /** Stamps a take-back could not take because they were spent already. */
  shortfall: number
  availableAfter: number
  frozenAfter: number
  idempotencyKey: string
  reason: string
  source: StampSource
  actor: string
  holdId: string | null
  bizNo: string | null
  createdAt: string
}

export interface StampHoldView {
  id: string
  accountId: string
  amount: number
  status: StampHoldStatus
  expiresAt: string
  exchangeActivityId: string | null
  outBizNo: string | null
  createdAt: string
  resolvedAt: string | null
}

export interface LedgerResult {
  entry: StampEntryView
  /** The balances right after this entry (on a replay: after the first time, as answered then). */
  balances: { total: number; available: number; frozen: number }
  /** FREEZE: the hold it made; COMMIT/CANCEL: the hold it resolved. */
  hold: StampHoldView | null
  /** True when the idempotency key had been used for this same request: nothing changed now. */
  replayed: boolean
}

/** Whose stamps: one account per (merchant, member, stamp activity). */
export interface AccountRef {
  merchantId: string
  memberId: string
  activityId: string
}

export type LedgerOp =
  | { type: 'DEPOSIT'; account: AccountRef; amount: number; bizNo?: string }
  | {
      type: 'CONSUME'
      account: AccountRef
      amount: number
      bizNo?: string
      /**
       * Take what is there and record the rest as a shortfall instead of refusing (a refund whose
       * stamps were spent already: the balance never goes below zero).
       */
      allowShortfall?: boolean
    }
  | {
      type: 'FREEZE'
      account: AccountRef
      amount: number
      /** When the worker cancels the hold unless it is committed first. */
      expiresAt: string
      exchangeActivityId?: string
      outBizNo?: string
    }
  | {
      /**
       * The worker's expiry: a CONSUME (source `expiry`) of what was earned before `earnedBefore`
       * and is still there, counted under the account lock (stamps leave oldest first; frozen
       * stamps count as spent, so a hold is never expired). Nothing due: {@link NothingToExpire}.
       */
      type: 'EXPIRE'
      account: AccountRef
      earnedBefore: string
    }
  | ResolveOp

/** Thrown by an EXPIRE when the account has nothing past its time: no entry is made. */
export class NothingToExpire extends Error {
  constructor() {
    super('nothing to expire')
  }
}

/** COMMIT (the stamps are spent) or CANCEL (they are available again) of a FREEZE's hold. */
export interface ResolveOp {
  type: 'COMMIT' | 'CANCEL'
  merchantId: string
  holdId: string
}

type AccountOp = Exclude<LedgerOp, ResolveOp>

function isResolve(op: LedgerOp): op is ResolveOp {
  return op.type === 'COMMIT' || op.type === 'CANCEL'
}

/** Why, from where and by whom; the key makes a retry a replay. */
export interface LedgerMeta {
  idempotencyKey: string
  reason: string
  source: StampSource
  /** `admin:<id>`, `till:<merchant>`, `alipay`, `system`. */
  actor: string
}

export function toAccountView(row: StampAccountRow): StampAccountView {
  const available = Number(row.available)
  const frozen = Number(row.frozen)
  return {
    id: row.id,
    merchantId: row.merchant_id,
    memberId: row.member_id,
    activityId: row.activity_id,
    total: available + frozen,
    available,
    frozen,
    earned: Number(row.earned),
    updatedAt: row.updated_at,
  }
}

export function toEntryView(row: StampEntryRow): StampEntryView {
  return {
    id: row.id,
    accountId: row.account_id,
    seq: Number(row.seq),
    type: row.type,
    amount: Number(row.amount),
    shortfall: Number(row.shortfall),
    availableAfter: Number(row.available_after),
    frozenAfter: Number(row.frozen_after),
    idempotencyKey: row.idempotency_key,
    reason: row.reason,
    source: row.source,
    actor: row.actor,
    holdId: row.hold_id,
    bizNo: row.biz_no,
    createdAt: row.created_at,
  }
}

export function toHoldView(row: StampHoldRow): StampHoldView {
  return {
    id: row.id,
    accountId: row.account_id,
    amount: Number(row.amount),
    status: row.status,
    expiresAt: row.expires_at,
    exchangeActivityId: row.exchange_activity_id,
    outBizNo: row.out_biz_no,
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
  }
}

/**
 * What the request asks for, hashed: a retry with the same key must ask for the same thing.
 * Reason and actor describe the change rather than make it, so they are left out.
 */
function fingerprint(op: LedgerOp): string {
  const what = isResolve(op)
    ? [op.type, op.merchantId, op.holdId]
    : op.type === 'EXPIRE'
      ? [
          op.type,
          op.account.merchantId,
          op.account.memberId,
          op.account.activityId,
          op.earnedBefore,
        ]
      : [
          op.type,
          op.account.merchantId,
          op.account.memberId,
          op.account.activityId,
          op.amount,
          op.type === 'FREEZE' ? '' : (op.bizNo ?? ''),
          op.type === 'CONSUME' && op.allowShortfall ? 'shortfall' : '',
          op.type === 'FREEZE' ? (op.outBizNo ?? '') : '',
        ]
  return createHash('sha256').update(JSON.stringify(what)).digest('hex')
}

function problemsOf(op: LedgerOp, meta: LedgerMeta): FieldProblem[] {
  const problems: FieldProblem[] = []
  if (!meta.idempotencyKey.trim() || meta.idempotencyKey.length > 128) {
    problems.push({ field: 'idempotencyKey', message: 'must be 1 to 128 characters' })
  }
  if (!meta.reason.trim()) {
    problems.push({ field: 'reason', message: 'is required' })
  }
  if (!isResolve(op) && op.type !== 'EXPIRE') {
    if (!Number.isSafeInteger(op.amount) || op.amount <= 0) {
      problems.push({ field: 'amount', message: 'must be a whole number ≥ 1' })
    }
  }
  return problems
}

export interface LedgerOptions {
  /**
   * Runs inside the entry's transaction, only when an entry was made (not on a replay): the audit
   * entry, the card push. Throwing rolls the entry back.
   */
  onApplied?: (trx: Executor, result: LedgerResult) => Promise<void>
}

/** Thrown inside the transaction when the key turns out to be used; answered after rollback. */
class KeyTaken extends Error {
  readonly earlier: StampEntryRow
  constructor(earlier: StampEntryRow) {
    super('idempotency key taken')
    this.earlier = earlier
  }
}

async function replayOf(
  deps: StampsDeps,
  earlier: StampEntryRow,
  print: string,
): Promise<LedgerResult> {
  if (earlier.fingerprint !== print) {
    throw StampErrors.keyReused(earlier.idempotency_key)
  }
  const db = deps.db
  const hold = earlier.hold_id
    ? await repo.findHold(db, earlier.hold_id)
    : earlier.type === 'FREEZE'
      ? await repo.findHoldByFreeze(db, earlier.id)
      : undefined
  return resultOf(earlier, hold, true)
}

function resultOf(
  entry: StampEntryRow,
  hold: StampHoldRow | undefined,
  replayed: boolean,
): LedgerResult {
  const available = Number(entry.available_after)
  const frozen = Number(entry.frozen_after)
  return {
    entry: toEntryView(entry),
    balances: { total: available + frozen, available, frozen },
    hold: hold ? toHoldView(hold) : null,
    replayed,
  }
}

/**
 * Records one ledger entry: DEPOSIT, CONSUME, FREEZE (makes a hold), COMMIT or CANCEL (resolves
 * one). Everything happens in one transaction that first locks the account row, so the balance
 * check, the idempotency check and the writes see no interleaving change:
 *  - the same idempotency key with the same request answers the first result (`replayed`);
 *    with a different request it is refused (409 STAMPS_IDEMPOTENCY_KEY_REUSED);
 *  - available and frozen never go below zero (and a CHECK constraint backs that up);
 *  - a hold is resolved once (and a unique index on the resolving entry backs that up).
 */
export async function applyLedger(
  deps: StampsDeps,
  op: LedgerOp,
  meta: LedgerMeta,
  options: LedgerOptions = {},
): Promise<LedgerResult> {
  const problems = problemsOf(op, meta)
  if (problems.length) {
    throw StampErrors.invalid(problems)
  }
  const print = fingerprint(op)
  const merchantId = isResolve(op) ? op.merchantId : op.account.merchantId
  const { db, dialect, clock, ids } = deps
  try {
    return await db.transaction().execute(async (trx) => {
      const now = clock.nowIso()
      let hold: StampHoldRow | undefined
      let accountId: string
      if (isResolve(op)) {
        hold = await repo.findHold(trx, op.holdId)
        if (!hold || hold.merchant_id !== merchantId) {
          throw StampErrors.holdNotFound(op.holdId)
        }
        accountId = hold.account_id
      } else {
        accountId = await repo.ensureAccount(trx, {
          id: ids.next('sac'),
          ...(op satisfies AccountOp).account,
          now,
        })
      }
      const account = (await repo.lockAccount(trx, dialect, accountId))!
      // Inside the lock: a concurrent twin with this key either committed before (found here) or
      // waits for us (and finds ours). Across accounts the unique key index decides (below).
      const earlier = await repo.findEntryByKey(trx, merchantId, meta.idempotencyKey)
      if (earlier) {
        throw new KeyTaken(earlier)
      }
      let available = Number(account.available)
      let frozen = Number(account.frozen)
      let earned = Number(account.earned)
      let amount = 0
      let shortfall = 0
      const entryId = ids.next('ste')
      switch (op.type) {
        case 'DEPOSIT':
          amount = op.amount
          available += amount
          earned += amount
          break
        case 'CONSUME':
          if (available < op.amount && !op.allowShortfall) {
            throw StampErrors.insufficient(available, op.amount)
          }
          amount = Math.min(available, op.amount)
          shortfall = op.amount - amount
          available -= amount
          break
        case 'EXPIRE': {
          const totals = await repo.expiryTotals(trx, accountId, op.earnedBefore)
          amount = Math.min(available, totals.deposited - totals.spent - frozen)
          if (amount <= 0) {
            throw new NothingToExpire()
          }
          available -= amount
          break
        }
        case 'FREEZE':
          if (available < op.amount) {
            throw StampErrors.insufficient(available, op.amount)
          }
          amount = op.amount
          available -= amount
          frozen += amount
          break
        case 'COMMIT':
        case 'CANCEL': {
          // Re-read under the lock: the status read before it may be stale.
          const resolved = await repo.resolveHold(trx, op.holdId, {
            status: op.type === 'COMMIT' ? 'committed' : 'cancelled',
            entryId,
            now,
          })
          if (!resolved) {
            const current = await repo.findHold(trx, op.holdId)
            throw StampErrors.holdResolved(op.holdId, current?.status ?? 'gone')
          }
          hold = resolved
          amount = Number(resolved.amount)
          frozen -= amount
          if (op.type === 'CANCEL') {
            available += amount
          }
          break
        }
      }
      const entry: StampEntryRow = {
        id: entryId,
        merchant_id: merchantId,
        account_id: accountId,
        seq: Number(account.last_seq) + 1,
        // An expiry is a CONSUME whose source says why.
        type: op.type === 'EXPIRE' ? 'CONSUME' : op.type,
        amount,
        shortfall,
        available_after: available,
        frozen_after: frozen,
        idempotency_key: meta.idempotencyKey,
        fingerprint: print,
        reason: meta.reason,
        source: meta.source,
        actor: meta.actor,
        hold_id: isResolve(op) ? op.holdId : null,
        biz_no: op.type === 'DEPOSIT' || op.type === 'CONSUME' ? (op.bizNo ?? null) : null,
        created_at: now,
      }
      await repo.insertEntry(trx, entry)
      await repo.setBalances(
        trx,
        accountId,
        { available, frozen, earned, last_seq: entry.seq },
        now,
      )
      if (op.type === 'FREEZE') {
        hold = {
          id: ids.next('sth'),
          merchant_id: merchantId,
          account_id: accountId,
          amount,
          status: 'held',
          freeze_entry_id: entryId,
          resolved_entry_id: null,
          exchange_activity_id: op.exchangeActivityId ?? null,
          out_biz_no: op.outBizNo ?? null,
          expires_at: op.expiresAt,
          created_at: now,
          resolved_at: null,
          koubei_log_no: null,
        }
        await repo.insertHold(trx, hold)
      }
      // Koubei-bound activities: the change goes there too, after this commits (the outbox).
      await queueMirror(trx, deps, entry)
      const result = resultOf(entry, hold, false)
      await options.onApplied?.(trx, result)
      return result
    })
  } catch (error) {
    if (error instanceof KeyTaken) {
      return replayOf(deps, error.earlier, print)
    }
    // The same key raced on another account: the other transaction's entry won the unique index.
    if (repo.isUniqueViolation(error)) {
      const earlier = await repo.findEntryByKey(db, merchantId, meta.idempotencyKey)
      if (earlier) {
        return replayOf(deps, earlier, print)
      }
    }
    throw error
  }
}

/** A member's account in an activity; an empty one when nothing was recorded yet. */
export async function accountOf(
  deps: Pick<AppDeps, 'db'>,
  ref: AccountRef,
): Promise<StampAccountView> {
  const row = await repo.findAccountOf(deps.db, ref.merchantId, ref.memberId, ref.activityId)
  if (row) {
    return toAccountView(row)
  }
  return {
    id: '',
    merchantId: ref.merchantId,
    memberId: ref.memberId,
    activityId: ref.activityId,
    total: 0,
    available: 0,
    frozen: 0,
    earned: 0,
    updatedAt: '',
  }
}

export async function getAccount(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  accountId: string,
): Promise<StampAccountView> {
  const row = await repo.findAccount(deps.db, accountId)
  if (!row || row.merchant_id !== merchantId) {
    throw StampErrors.accountNotFound(accountId)
  }
  return toAccountView(row)
}

export async function listAccounts(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  filter: { activityId?: string; memberId?: string } = {},
  limit = 200,
): Promise<StampAccountView[]> {
  return (await repo.listAccounts(deps.db, merchantId, filter, limit)).map(toAccountView)
}

/** An account's entries, oldest first, and its holds. */
export async function accountHistory(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  accountId: string,
  limit = 500,
): Promise<{ account: StampAccountView; entries: StampEntryView[]; holds: StampHoldView[] }> {
  const account = await getAccount(deps, merchantId, accountId)
  const db = deps.db
  return {
    account,
    entries: (await repo.listEntries(db, accountId, limit)).map(toEntryView),
    holds: (await repo.listHolds(db, accountId, limit)).map(toHoldView),
  }
}

export async function getHold(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  holdId: string,
): Promise<StampHoldView> {
  const row = await repo.findHold(deps.db, holdId)
  if (!row || row.merchant_id !== merchantId) {
    throw StampErrors.holdNotFound(holdId)
  }
  return toHoldView(row)
}

/**
 * The worker's step: cancels holds past their time to live (an exchange whose coupon was not
 * claimed in time), so the member sees the stamps again. A hold committed meanwhile is left alone.
 * Bounded per call; returns how many it cancelled.
 */
export async function cancelExpiredHolds(
  deps: StampsDeps,
  limit = 100,
  options: LedgerOptions = {},
): Promise<number> {
  const due = await repo.listExpiredHolds(deps.db, deps.clock.nowIso(), limit)
  let cancelled = 0
  for (const hold of due) {
    try {
      const result = await applyLedger(
        deps,
        { type: 'CANCEL', merchantId: hold.merchant_id, holdId: hold.id },
        {
          // One key per hold: two workers sweeping at once make one CANCEL and one replay.
          idempotencyKey: `expiry:${hold.id}`,
          reason: 'hold expired before the coupon was claimed',
          source: 'expiry',
          actor: 'system',
        },
        options,
      )
      if (!result.replayed) {
        cancelled++
      }
    } catch (error) {
      if ((error as { code?: string }).code !== 'STAMPS_HOLD_RESOLVED') {
        throw error
      }
    }
  }
  return cancelled
}

/**
 * A manual change by staff (a goodwill stamp, a correction): DEPOSIT or CONSUME, audited in the
 * same transaction. The caller's idempotency key makes a double-click one change.
 */
export async function adjustStamps(
  deps: StampsDeps,
  input: AccountRef & { delta: number; reason: string; idempotencyKey: string },
  actor: { actor: string; requestId?: string },
  options: LedgerOptions = {},
): Promise<LedgerResult> {
  if (!Number.isSafeInteger(input.delta) || input.delta === 0) {
    throw StampErrors.invalid([{ field: 'delta', message: 'must be a non-zero whole number' }])
  }
  const account = {
    merchantId: input.merchantId,
    memberId: input.memberId,
    activityId: input.activityId,
  }
  return applyLedger(
    deps,
    input.delta > 0
      ? { type: 'DEPOSIT', account, amount: input.delta }
      : { type: 'CONSUME', account, amount: -input.delta },
    {
      idempotencyKey: `admin:${input.idempotencyKey}`,
      reason: input.reason,
      source: 'admin',
      actor: actor.actor,
    },
    {
      onApplied: async (trx, result) => {
        await recordAudit(
          { ...deps, db: trx },
          {
            merchantId: input.merchantId,
            ...actor,
            action: 'stamps.adjust',
            target: { type: 'stamp_account', id: result.entry.accountId },
            after: { delta: input.delta, reason: input.reason, balances: result.balances },
          },
        )
        await options.onApplied?.(trx, result)
      },
    },
  )
}
