import { AppError, ErrorKind } from '../../shared/errors.js'

/** Codes of the merchants module beyond field problems and Alipay advice (docs/errcodes.md). */
export type MerchantErrorCode =
  | 'MERCHANT_NOT_FOUND'
  | 'ALIPAY_NOT_CONFIGURED'
  | 'ISV_NOT_CONFIGURED'
  | 'APP_AUTH_NOT_FOUND'
  | 'APP_AUTH_PENDING'
  | 'APP_AUTH_REVOKED'
  | 'APP_AUTH_STATE_INVALID'
  | 'APP_AUTH_APP_MISMATCH'
  | 'APP_AUTH_MERCHANT_INVALID'
  | 'MERCHANT_ALIPAY_SIGN_TYPE_UNSUPPORTED'
  | 'KEY_ROTATION_NOTHING_PENDING'
  | 'KEY_ROTATION_IN_PROGRESS'
  | 'KEY_ROTATION_INVALID'

/** The merchants error catalogue; Alipay's own failures are explained in alipay-advice.ts. */
export const MerchantErrors = {
  notFound: (id: string) =>
    new AppError(ErrorKind.NotFound, 'MERCHANT_NOT_FOUND', `merchant ${id} does not exist`),
  alipayNotConfigured: (id: string) =>
    new AppError(
      ErrorKind.Invalid,
      'ALIPAY_NOT_CONFIGURED',
      `merchant ${id} has no Alipay app yet: set the app id, keys and gateway first`,
    ),
  signTypeUnsupported: (signType: string) =>
    new AppError(
      ErrorKind.Invalid,
      'MERCHANT_ALIPAY_SIGN_TYPE_UNSUPPORTED',
      `signType: ${signType} (SHA1withRSA) is not accepted; switch the app to RSA2 (SHA256withRSA) in the open platform (接口加签方式), upload the new app public key or certificate, and send signType RSA2 with the new keys`,
    ),
  isvNotConfigured: (missing: string[]) =>
    new AppError(
      ErrorKind.Invalid,
      'ISV_NOT_CONFIGURED',
      `onboarding by app authorisation needs the ISV app in the configuration: set ${missing.join(', ')} (docs/configuration.md)`,
      { missing },
    ),
  appAuthNotFound: (id: string) =>
    new AppError(
      ErrorKind.NotFound,
      'APP_AUTH_NOT_FOUND',
      `merchant ${id} was not onboarded by app authorisation`,
    ),
  /** Retryable: queued card pushes wait for the merchant to authorise, then go out. */
  appAuthPending: (id: string) =>
    new AppError(
      ErrorKind.Conflict,
      'APP_AUTH_PENDING',
      `merchant ${id} has not authorised the ISV app yet: send the owner the authorisation link (商户尚未完成第三方应用授权)`,
      { merchantId: id },
      { retryable: true },
    ),
  /** Retryable: after a re-authorisation the queued pushes go out. */
  appAuthRevoked: (id: string) =>
    new AppError(
      ErrorKind.Conflict,
      'APP_AUTH_REVOKED',
      `merchant ${id} withdrew its authorisation of the ISV app: no Alipay call is made for it until the owner authorises again through a new link (商户已取消第三方应用授权)`,
      { merchantId: id },
      { retryable: true },
    ),
  appAuthStateInvalid: () =>
    new AppError(
      ErrorKind.Invalid,
      'APP_AUTH_STATE_INVALID',
      'this authorisation link is unknown, already used or replaced: ask for a new link (授权链接无效或已使用)',
    ),
  appAuthAppMismatch: (appId: string) =>
    new AppError(
      ErrorKind.Invalid,
      'APP_AUTH_APP_MISMATCH',
      `the authorisation came back for app ${appId}, not this kaguan's ISV app`,
    ),
  appAuthMerchantInvalid: (problem: string) =>
    new AppError(ErrorKind.Invalid, 'APP_AUTH_MERCHANT_INVALID', problem),
  nothingPending: (id: string, what: string) =>
    new AppError(
      ErrorKind.Conflict,
      'KEY_ROTATION_NOTHING_PENDING',
      `merchant ${id} has no ${what} waiting: start the rotation first`,
    ),
  rotationInProgress: (id: string, what: string, how: string) =>
    new AppError(
      ErrorKind.Conflict,
      'KEY_ROTATION_IN_PROGRESS',
      `merchant ${id} is already rotating its ${what}: ${how} first`,
    ),
}
