/**
 * Point collection (会员集点) on kaguan's own ledger: stamp accounts per (merchant, member,
 * activity), an append-only ledger of DEPOSIT/CONSUME/FREEZE/COMMIT/CANCEL entries with
 * idempotency keys, and holds with a time to live. Koubei (where mirrored) is never the truth.
 */
export type {
  StampAccountsTable,
  StampActivitiesTable,
  StampEntriesTable,
  StampHoldsTable,
  StampEntryType,
  StampSource,
} from './stamps.table.js'
export { StampErrors, type StampErrorCode } from './stamps.errors.js'
export {
  accountHistory,
  accountOf,
  applyLedger,
  cancelExpiredHolds,
  getAccount,
  getHold,
  listAccounts,
  type AccountRef,
  type LedgerDeps,
  type LedgerMeta,
  type LedgerOp,
  type LedgerResult,
  type StampAccountView,
  type StampEntryView,
  type StampHoldView,
} from './stamps.service.js'
export { createHoldSweeper, type HoldSweeper } from './stamps.worker.js'
