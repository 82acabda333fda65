import { AppError, ErrorKind } from '../../shared/errors.js'

/** Codes of the merchants module beyond field problems and Alipay advice (docs/errcodes.md). */
export type MerchantErrorCode =
  'MERCHANT_NOT_FOUND' | 'ALIPAY_NOT_CONFIGURED' | 'MERCHANT_ALIPAY_SIGN_TYPE_UNSUPPORTED'

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
}
