import { AppError, ErrorKind, invalidFields, type FieldProblem } from '../../shared/errors.js'

/** Every code the stamps module answers with (docs/errcodes.md lists them). */
export type StampErrorCode =
  | 'STAMPS_INVALID'
  | 'STAMPS_IDEMPOTENCY_KEY_REUSED'
  | 'STAMPS_INSUFFICIENT'
  | 'STAMPS_HOLD_NOT_FOUND'
  | 'STAMPS_HOLD_RESOLVED'
  | 'STAMPS_ACTIVITY_NOT_FOUND'
  | 'STAMPS_ACTIVITY_STATE'
  | 'STAMPS_MEMBER_NOT_FOUND'
  | 'STAMPS_ACCOUNT_NOT_FOUND'
  | 'STAMPS_KOUBEI_UNAVAILABLE'

function stampError(
  kind: ErrorKind,
  code: StampErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): AppError {
  return new AppError(kind, code, message, details)
}

/** The stamps error catalogue: every throw site of one failure gets the same code and kind. */
export const StampErrors = {
  invalid: (problems: FieldProblem[]) =>
    invalidFields('STAMPS_INVALID' satisfies StampErrorCode, problems),
  keyReused: (idempotencyKey: string) =>
    stampError(
      ErrorKind.Conflict,
      'STAMPS_IDEMPOTENCY_KEY_REUSED',
      `idempotency key "${idempotencyKey}" was used for a different request; use a new key`,
      { idempotencyKey },
    ),
  insufficient: (available: number, wanted: number) =>
    stampError(
      ErrorKind.Conflict,
      'STAMPS_INSUFFICIENT',
      `the account has ${available} available stamps; ${wanted} are needed`,
      { available, wanted },
    ),
  holdNotFound: (holdId: string) =>
    stampError(ErrorKind.NotFound, 'STAMPS_HOLD_NOT_FOUND', `no hold ${holdId}`, { holdId }),
  holdResolved: (holdId: string, status: string) =>
    stampError(
      ErrorKind.Conflict,
      'STAMPS_HOLD_RESOLVED',
      `hold ${holdId} is already ${status}; a hold is committed or cancelled once`,
      { holdId, status },
    ),
  activityNotFound: (activityId: string) =>
    stampError(
      ErrorKind.NotFound,
      'STAMPS_ACTIVITY_NOT_FOUND',
      `no stamp activity ${activityId} of this merchant`,
      { activityId },
    ),
  activityState: (activityId: string, status: string, wanted: string) =>
    stampError(
      ErrorKind.Conflict,
      'STAMPS_ACTIVITY_STATE',
      `activity ${activityId} is ${status}; this needs it ${wanted}`,
      { activityId, status },
    ),
  memberNotFound: (ref: string) =>
    stampError(ErrorKind.NotFound, 'STAMPS_MEMBER_NOT_FOUND', `no member ${ref} of this merchant`),
  accountNotFound: (accountId: string) =>
    stampError(ErrorKind.NotFound, 'STAMPS_ACCOUNT_NOT_FOUND', `no stamp account ${accountId}`),
  koubeiUnavailable: (message: string) =>
    stampError(ErrorKind.Unavailable, 'STAMPS_KOUBEI_UNAVAILABLE', message),
} as const
