export { explainAlipayError, type AlipayOperation } from './alipay-advice.js'
export {
  APP_AUTH_CALLBACK_PATH,
  APP_AUTH_CANCELLED,
  appAuthQrPng,
  checkAppAuth,
  completeAppAuth,
  createAppAuthSweeper,
  getAppAuth,
  handleAppAuthCancelled,
  isvApp,
  ISV_GATEWAY_PATH,
  listAppAuths,
  onboardMerchant,
  refreshAppAuth,
  refreshDueAppAuths,
  renewAppAuthLink,
  type AppAuthDeps,
  type AppAuthSweeper,
  type AppAuthView,
} from './app-auth.service.js'
export {
  alipayContext,
  crmCallPolicy,
  crmConnection,
  memberSystem,
  notifiedApp,
  signedSpiAnswer,
  usesAlipayApp,
  type AlipayContext,
  type CrmConnection,
  type MemberSystem,
} from './merchant-context.service.js'
export {
  checkPublicBaseUrl,
  createMerchant,
  DEFAULT_MERCHANT_ID,
  ensureDefaultMerchant,
  gatewayUrlOf,
  getMerchant,
  isAlipayOwnGateway,
  listMerchants,
  merchantPaths,
  MINI_PATHS,
  updateAlipayApp,
  updateCrm,
  updatePublicBaseUrl,
  type Actor,
  type AlipayAppInput,
  type CrmInput,
  type MerchantDeps,
  type MerchantView,
} from './merchants.service.js'
export {
  longConnectionApps,
  releaseChannelLease,
  takeChannelLease,
  updateMessageChannel,
  type MessageChannelKind,
} from './message-channel.service.js'
export {
  acceptedCrmKeys,
  activateAppKey,
  addCrmKey,
  DEFAULT_CRM_KEY_OVERLAP_HOURS,
  discardAppKey,
  discardCrmToken,
  issueCrmToken,
  keyCustody,
  MAX_CRM_KEY_OVERLAP_HOURS,
  merchantsKeyStatus,
  reencryptMerchants,
  retireOldCrmKey,
  retireOldCrmToken,
  stageAppKey,
  type AcceptedCrmKey,
  type KeyCustodyView,
} from './merchants.keys.service.js'
export type { MerchantsTable } from './merchants.table.js'
export { internalHostReason } from './public-address.js'
export { MerchantErrors, type MerchantErrorCode } from './merchants.errors.js'
export { certExpiryFigures, certificateExpiries } from './alipay-certs.service.js'
export { appAuthsKeyStatus, reencryptAppAuths } from './app-auth.keys.js'
