export { explainAlipayError, type AlipayOperation } from './alipay-advice.js'
export {
  alipayContext,
  crmCallPolicy,
  crmConnection,
  memberSystem,
  notifiedApp,
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
