/**
 * One error type for the whole server (style-anchors §4.7): a closed set of kinds that each surface
 * maps to its own answer (HTTP status, CRM `FAIL`, Alipay `fail`, CLI exit code), a stable
 * machine-readable code, and details that are safe to show to the caller.
 */
export const ErrorKind = {
  Invalid: 'invalid',
  Unauthenticated: 'unauthenticated',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  TooMany: 'too_many',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind]

export class AppError extends Error {
  override name = 'AppError'
  readonly kind: ErrorKind
  /** SCREAMING_SNAKE, prefixed by module: `CONFIG_INVALID`, `CRM_SIGNATURE_INVALID`. */
  readonly code: string
  readonly details: Readonly<Record<string, unknown>>
  /**
   * Whether the same call may succeed later (the outbox tries again; a user is told to retry).
   * By default only `unavailable` errors are: bad input, a refusal or a bug do not heal by waiting.
   */
  readonly retryable: boolean

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions & { retryable?: boolean },
  ) {
    super(message, options)
    this.kind = kind
    this.code = code
    this.details = details
    this.retryable = options?.retryable ?? kind === ErrorKind.Unavailable
  }
}

/** One problem with one input field; `field` is the name the caller used (a path, a key, a header). */
export interface FieldProblem {
  field: string
  message: string
}

/** A bad-input error that names every field at fault, in the order found. */
export function invalidFields(code: string, problems: FieldProblem[]): AppError {
  const message = problems.map((p) => `${p.field}: ${p.message}`).join('; ')
  return new AppError(ErrorKind.Invalid, code, message, { fields: problems })
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError
}
