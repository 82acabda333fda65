import { AppError, ErrorKind } from '../../shared/errors.js'

/** Codes of the merchants module beyond field problems and Alipay advice (docs/errcodes.md). */
export type MerchantErrorCode =
  | 'MERCHANT_NOT_FOUND'
  | 'ALIPAY_NOT_CONFIGURED'
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
