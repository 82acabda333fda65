/**
 * @kaguan/crm-sdk: what a merchant CRM written in TypeScript/JavaScript needs to work with kaguan.
 * The RSA2 signer, a client for kaguan core (`/card/update`, `/card/changeTemplate`) and a
 * `node:http` handler for the three endpoints kaguan calls. No dependency but `node:` built-ins.
 * The wire contract is docs/crm-integration.md.
 */
export {
  canonicalString,
  generateKeyPair,
  pemToBase64,
  signParams,
  SIGNATURE_PARAM_KEYS,
  toPrivateKey,
  toPublicKey,
  verifyParams,
  withReplayGuard,
  type CrmKeyPair,
  type KeyInput,
  type ParamValue,
  type ReplayGuardOptions,
  type SignableParams,
} from './sign.js'
export {
  CoreBodyEncoding,
  createCoreClient,
  parseCoreResult,
  type CoreClient,
  type CoreClientOptions,
} from './core-client.js'
export {
  createCrmHandler,
  formatChinaTime,
  type CrmCallContext,
  type CrmErrorBody,
  type CrmHandlerOptions,
  type RequestListener,
} from './crm-handler.js'
export {
  CardChangeType,
  CorePath,
  CrmPath,
  type CardChangeRequest,
  type ChangeTemplateParams,
  type CoreResult,
  type MdCodeChangeAnswer,
  type MdCodeChangeRequest,
  type OpenCardInfoAnswer,
  type OpenCardInfoRequest,
  type UpdateCardParams,
} from './contracts.js'
export { CrmHandlerError, CrmSdkError, CrmSdkErrorCode } from './errors.js'
