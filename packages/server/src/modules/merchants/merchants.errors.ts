import { AppError, ErrorKind } from '../../shared/errors.js'

/** Codes of the merchants module beyond field problems and Alipay advice (docs/errcodes.md). */
export type MerchantErrorCode = 'MERCHANT_NOT_FOUND' | 'ALIPAY_NOT_CONFIGURED'

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
}
