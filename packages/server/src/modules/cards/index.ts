export {
  handleAlipayMessage,
  type AlipayMessageOutcome,
  type AlipayServiceMessage,
} from './alipay-message.service.js'
export { componentCard } from './card-component.service.js'
export { cardDetail, getCard } from './card-detail.service.js'
export {
  deleteCardByAdmin,
  handleCardNotification,
  handleMdcode,
  verifyDynamicCode,
} from './card-events.service.js'
export {
  adjustPoints,
  cardOutboxHandlers,
  cardWriteKey,
  changeCardTemplate,
  findCardForCrm,
  setCardState,
  setCardStateIn,
  adjustPointsIn,
  changeCardTemplateIn,
  type AdjustPoints,
  type CardView,
  type StateChange,
} from './card-state.service.js'
export { cardStats, type CardStats } from './card-stats.service.js'
export type {
  CardsTable,
  ClaimsTable,
  ClaimBlocksTable,
  DynamicCodesTable,
  PointEntriesTable,
  PointRemindersTable,
} from './cards.table.js'
export {
  claimCard,
  type CardsDeps,
  type ClaimCallback,
  type ClaimOutcome,
} from './claim.service.js'
export { cardFigures, type CardFigures } from './card-metrics.service.js'
export {
  activeCardsOf,
  listMembers,
  type MemberQuery,
  type MemberWithCards,
} from './member-list.service.js'
export {
  createPointsExpirySweeper,
  expireDuePoints,
  pointsExpiryOutboxHandlers,
  POINTS_REMIND_TOPIC,
  remindExpiringPoints,
  type PointsExpirySweeper,
  type PointsRemindPayload,
} from './points-expiry.service.js'
export {
  getReconcileJob,
  startReconcileJob,
  type ReconcileJob,
  type ReconcileJobStatus,
} from './reconcile-jobs.service.js'
export { reconcileCards, type ReconcileOptions, type ReconcileReport } from './reconcile.service.js'
export {
  answerOpenCardSpi,
  settleOpenCardResult,
  type OpenCardResultInput,
  type OpenCardSpiInput,
  type OpenCardSpiOutcome,
} from './spi-open.service.js'
export { CARD_CHANGE_TOPIC, CARD_PUSH_TOPIC } from './topics.js'
export { CardErrors, type CardErrorCode } from './cards.errors.js'
export {
  blockClaims,
  claimRefusals,
  listClaimBlocks,
  unblockClaims,
  type ClaimBlock,
} from './claim-limits.service.js'
export { eraseMember, exportMember } from './member-privacy.service.js'
