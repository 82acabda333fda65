import { AppError, ErrorKind } from '../../shared/errors.js'

/**
 * Every code the crm module answers with (docs/errcodes.md). The CRM's own failures when kaguan
 * calls it (CRM_TIMEOUT, CRM_TOKEN_REJECTED, …) come from the CRM port, not from here.
 */
export type CrmErrorCode =
  | 'CRM_SIGNATURE_MISSING'
  | 'CRM_SIGNATURE_INVALID'
  | 'CRM_KEY_NOT_CONFIGURED'
  | 'CRM_TIMESTAMP_SKEW'
  | 'CRM_TIMESTAMP_MISSING'
  | 'CRM_REPLAY_GUARD_REQUIRED'
  | 'CRM_NONCE_REPLAYED'
  | 'CRM_TEMPLATE_ID_KAGUAN'
  | 'CRM_NOT_CONFIGURED'
  | 'SIGN_AMBIGUOUS'
  | 'REQUEST_INVALID'
  | 'TEMPLATE_NOT_FOUND'

const unauthenticated = (code: CrmErrorCode, message: string) =>
  new AppError(ErrorKind.Unauthenticated, code, message)

/** The crm error catalogue: a signed call refused says which rule it broke and how to fix it. */
export const CrmErrors = {
  signatureMissing: () =>
    unauthenticated(
      'CRM_SIGNATURE_MISSING',
      'sign is missing: sign the parameters with the CRM private key (see docs/crm-integration.md)',
    ),
  signatureInvalid: () =>
    unauthenticated(
      'CRM_SIGNATURE_INVALID',
      'the signature does not verify: check the signing rule, the parameters sent and the key pair',
    ),
  keyNotConfigured: () =>
    unauthenticated(
      'CRM_KEY_NOT_CONFIGURED',
      'the merchant has no CRM public key configured in kaguan, so no call can be verified',
    ),
  timestampSkew: (timestamp: string, nowMs: number) =>
    unauthenticated(
      'CRM_TIMESTAMP_SKEW',
      `timestamp ${timestamp} is more than 5 minutes from kaguan's clock (${nowMs} ms)`,
    ),
  timestampMissing: () =>
    new AppError(
      ErrorKind.Invalid,
      'CRM_TIMESTAMP_MISSING',
      'nonce was sent without timestamp: send both (the nonce is checked within the timestamp window)',
      { field: 'timestamp' },
    ),
  replayGuardRequired: () =>
    unauthenticated('CRM_REPLAY_GUARD_REQUIRED', 'timestamp and nonce are required (strict mode)'),
  nonceReplayed: (nonce: string) =>
    unauthenticated('CRM_NONCE_REPLAYED', `nonce ${nonce} was already used`),
  templateIdIsKaguans: (templateId: string) =>
    new AppError(
      ErrorKind.Invalid,
      'CRM_TEMPLATE_ID_KAGUAN',
      `templateId ${templateId} is kaguan's own template id: send Alipay's template id (支付宝模板 ID, digits, shown beside it in the console and in openCardInfo's templateId)`,
      { field: 'templateId' },
    ),
  signAmbiguous: (field: string) =>
    new AppError(
      ErrorKind.Invalid,
      'SIGN_AMBIGUOUS',
      `${field}: a value must not contain "&name=": the sign string could not tell it from another parameter`,
      { field },
    ),
  templateIdMissing: () =>
    new AppError(ErrorKind.Invalid, 'REQUEST_INVALID', 'templateId is required', {
      field: 'templateId',
    }),
  templateNotPublished: (templateId: string) =>
    new AppError(
      ErrorKind.NotFound,
      'TEMPLATE_NOT_FOUND',
      `templateId ${templateId} is not a published kaguan template`,
    ),
  notConfigured: () =>
    new AppError(
      ErrorKind.Conflict,
      'CRM_NOT_CONFIGURED',
      'CRM mode is off or incomplete: set mode crm, the base URL, the token and the CRM public key',
    ),
}
