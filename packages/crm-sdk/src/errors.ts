/** Machine-readable codes of {@link CrmSdkError}. */
export const CrmSdkErrorCode = {
  /** A key could not be read as PEM or bare base64 (PKCS#8 private / SPKI public). */
  KeyInvalid: 'CRM_SDK_KEY_INVALID',
  /** A parameter handed to the SDK is missing or malformed; `field` names it. */
  InputInvalid: 'CRM_SDK_INPUT_INVALID',
  /** kaguan core could not be reached (DNS, refused, reset). */
  Network: 'CRM_SDK_NETWORK',
  /** kaguan core did not answer within `timeoutMs`. */
  Timeout: 'CRM_SDK_TIMEOUT',
  /** kaguan core answered with an HTTP status and a body that is not a contract answer. */
  HttpStatus: 'CRM_SDK_HTTP_STATUS',
  /** kaguan core answered 2xx with a body that is not `{"status":"OK"|"FAIL",…}`. */
  BadResponse: 'CRM_SDK_BAD_RESPONSE',
} as const
export type CrmSdkErrorCode = (typeof CrmSdkErrorCode)[keyof typeof CrmSdkErrorCode]

/**
 * The one error class the SDK throws. Business refusals from kaguan (`{"status":"FAIL"}`) are
 * results, not errors; this is for things the caller must fix or retry.
 */
export class CrmSdkError extends Error {
  override name = 'CrmSdkError'
  readonly code: CrmSdkErrorCode
  /** The offending parameter, for {@link CrmSdkErrorCode.InputInvalid}. */
  readonly field: string | undefined
  /** HTTP status of kaguan's answer, when there was one. */
  readonly httpStatus: number | undefined
  /** True when sending the same request again later may succeed (network, timeout, 5xx). */
  readonly retryable: boolean

  constructor(
    code: CrmSdkErrorCode,
    message: string,
    details: { field?: string; httpStatus?: number; retryable?: boolean } = {},
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.code = code
    this.field = details.field
    this.httpStatus = details.httpStatus
    this.retryable = details.retryable ?? false
  }
}

/**
 * Throw this from a CRM endpoint callback to refuse a request with a clean answer
 * (`{"status":"FAIL","errcode","errmsg"}` and the given HTTP status) instead of a 500.
 */
export class CrmHandlerError extends Error {
  override name = 'CrmHandlerError'
  readonly status: number
  readonly errcode: string

  constructor(status: number, errcode: string, message: string) {
    super(message)
    this.status = status
    this.errcode = errcode
  }
}
