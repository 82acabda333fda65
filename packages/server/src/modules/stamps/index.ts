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
  StampRemindersTable,
  StampEntryType,
  StampSource,
} from './stamps.table.js'
export { StampErrors, type StampErrorCode } from './stamps.errors.js'
export {
  accountHistory,
  accountOf,
  adjustStamps,
  applyLedger,
  cancelExpiredHolds,
  getAccount,
  getHold,
  listAccounts,
  type AccountRef,
  type LedgerMeta,
  type LedgerOptions,
  type LedgerOp,
  type LedgerResult,
  type StampAccountView,
  type StampEntryView,
  type StampHoldView,
} from './stamps.service.js'
export {
  listHolds,
  pageAccounts,
  stampStats,
  type AccountFilter,
  type AccountSort,
  type HoldFilter,
  type HoldSort,
  type StampHoldListItem,
} from './reports.service.js'
export { createHoldSweeper, type HoldSweeper } from './stamps.worker.js'
export {
  DEFAULT_REMIND_DAYS,
  STAMPS_REMIND_TOPIC,
  expireDueStamps,
  remindExpiringStamps,
  type StampsRemindPayload,
} from './expiry.service.js'
export {
  DEFAULT_HOLD_TTL_MINUTES,
  KOUBEI_NOTIFY_PATH,
  createActivity,
  endActivity,
  findActivityAnywhere,
  getActivity,
  koubeiPorts,
  listActivities,
  publishActivity,
  updateActivity,
  type PublishPorts,
  type StampActivity,
} from './activity.service.js'
export {
  earnForTrade,
  memberOfTrade,
  refundTrade,
  type EarnedStamps,
  type TakenBack,
  type TradeInput,
} from './earning.service.js'
export {
  EXCHANGE_PATH,
  exchangeLink,
  onCouponClaimed,
  startExchange,
  type ExchangeLink,
  type CouponOutcome,
  type ExchangeStart,
} from './exchange.service.js'
export {
  STAMPS_CARD_TOPIC,
  STAMP_COLUMN_LABEL,
  stampColumnOf,
  stampsOutboxHandlers,
  withCardPush,
} from './card-column.service.js'
export { stampsForTrade, stampColumn } from './stamps.rules.js'
export {
  STAMPS_MIRROR_TOPIC,
  reconcileStamps,
  type StampsDrift,
  type StampsMirrorPayload,
  type StampsReconcileReport,
} from './mirror.service.js'
export {
  couponPageUrl,
  koubeiVoucherProvider,
  type PublishedVouchers,
  type VoucherProvider,
} from './voucher-provider.js'
export { stampEntryFigures } from './stamp-metrics.service.js'
export type { StampsDeps } from './stamps.deps.js'
