export {
  createCrmPort,
  type CardChangeRequest,
  type CrmEndpoint,
  type CrmPort,
  type MdCode,
  type MdCodeChangeRequest,
  type OpenCardInfoAnswer,
  type OpenCardInfoRequest,
} from '../../ports/crm-client.js'
export {
  claimNonce,
  releaseNonce,
  REPLAY_WINDOW_MS,
  verifyCrmCall,
  verifyCrmSignature,
  type VerifiedCrmCall,
} from './crm-auth.js'
export {
  checkCrm,
  CheckStatus,
  type CrmCheckOptions,
  type CrmCheckReport,
  type CrmCheckRow,
} from './crm-check.js'
export { testCrmConnection } from './crm-test.service.js'
export { CrmErrors, type CrmErrorCode } from './crm.errors.js'
export { checkCrmLevels, probeUserOf } from './crm-levels.service.js'
