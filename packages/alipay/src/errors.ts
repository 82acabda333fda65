/**
 * Gateway result codes of the Alipay OpenAPI (公共错误码, https://opendocs.alipay.com/common/02km9f).
 * `code` of a response node is one of these; anything but `10000` is a failure.
 */
export const GatewayCode = {
  Success: '10000',
  ServiceUnavailable: '20000',
  InsufficientTokenPermissions: '20001',
  MissingArguments: '40001',
  InvalidArguments: '40002',
  InsufficientConditions: '40003',
  BusinessFailed: '40004',
  InsufficientPermissions: '40006',
} as const
export type GatewayCode = (typeof GatewayCode)[keyof typeof GatewayCode]

/**
 * Codes of failures that happen on our side of the wire (no gateway `code` to report).
 * An {@link AlipayError} whose `code` is numeric came from Alipay; one of these came from us.
 */
export const AlipayErrorCode = {
  /** The request never got an HTTP answer (connection refused/reset, DNS, TLS). Retryable. */
  Network: 'ALIPAY_NETWORK_ERROR',
  /** No answer within the timeout. Retryable; the call may have been applied by Alipay. */
  Timeout: 'ALIPAY_TIMEOUT',
  /** HTTP status other than 200. Retryable for 5xx and 429. */
  Http: 'ALIPAY_HTTP_ERROR',
  /** HTTP 200 but not a gateway answer (not JSON, no `<method>_response` node). Not retryable. */
  BadResponse: 'ALIPAY_BAD_RESPONSE',
  /**
   * The response signature does not verify with the configured Alipay public key (or a success
   * answer came unsigned). Not retryable: it almost always means a wrong `alipayPublicKey` (e.g. the
   * app public key pasted in its place) or a tampering proxy; retrying cannot fix either. Alipay may
   * have applied the call, so reconcile with a query once the key is fixed.
   */
  ResponseSignatureInvalid: 'ALIPAY_RESPONSE_SIGNATURE_INVALID',
  /** A key could not be parsed as an RSA key. */
  KeyInvalid: 'ALIPAY_KEY_INVALID',
  /** The client configuration is unusable (missing field, public key equal to the app key). */
  ConfigInvalid: 'ALIPAY_CONFIG_INVALID',
  /** A certificate (cert mode) could not be read, or the configured set does not fit together. */
  CertInvalid: 'ALIPAY_CERT_INVALID',
  /**
   * A response named an Alipay certificate (`alipay_cert_sn`) that could not be fetched, or whose
   * downloaded content does not chain to the configured root. Not retryable until the root is fixed.
   */
  CertUntrusted: 'ALIPAY_CERT_UNTRUSTED',
  /** `RSA` (SHA1withRSA) apps are refused: switch the app to `RSA2` in the open-platform console. */
  SignTypeUnsupported: 'ALIPAY_SIGN_TYPE_UNSUPPORTED',
} as const
export type AlipayErrorCode = (typeof AlipayErrorCode)[keyof typeof AlipayErrorCode]

/**
 * Sub codes that mean "Alipay had a problem, try later" even under a business code.
 * `isp.*` (internal service provider) sub codes are Alipay-side faults by convention and are
 * matched by prefix; the rest are the system-error spellings used by individual product lines.
 */
const TRY_LATER_SUB_CODES: ReadonlySet<string> = new Set([
  'aop.unknow-error',
  'SYSTEM_ERROR',
  'SYSTEM_BUSY',
  'ACQ.SYSTEM_ERROR',
])

/**
 * Whether a failure is worth retrying unchanged: network errors, timeouts, HTTP 5xx/429, gateway
 * code `20000`, and "try later" sub codes (`isp.*`, `aop.unknow-error`, `SYSTEM_ERROR`, ...).
 * Business failures (`40001`, `40002`, `40004`, `40006`, `20001`) are not.
 */
export function isRetryable(failure: {
  code: string
  subCode?: string | undefined
  httpStatus?: number | undefined
}): boolean {
  const { code, subCode, httpStatus } = failure
  if (code === AlipayErrorCode.Network || code === AlipayErrorCode.Timeout) {
    return true
  }
  if (code === AlipayErrorCode.Http) {
    return httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429)
  }
  if (code === GatewayCode.ServiceUnavailable) {
    return true
  }
  if (subCode !== undefined && (subCode.startsWith('isp.') || TRY_LATER_SUB_CODES.has(subCode))) {
    return true
  }
  return false
}

/** Everything {@link AlipayError} carries; only `code` is required. */
export interface AlipayErrorInit {
  /** Gateway code (`40004`, ...) or one of {@link AlipayErrorCode}. */
  code: string
  msg?: string | undefined
  subCode?: string | undefined
  subMsg?: string | undefined
  /** Alipay's trace id (response header `trace_id`) or, failing that, our `alipay-request-id`. */
  traceId?: string | undefined
  /** The OpenAPI method, e.g. `alipay.marketing.card.open`. */
  method?: string | undefined
  httpStatus?: number | undefined
  /** The raw response text, when there was one. May hold personal data: do not log it blindly. */
  raw?: string | undefined
  /** Overrides the computed {@link isRetryable}. */
  retryable?: boolean | undefined
  cause?: unknown
}

/**
 * The one error the Alipay client throws: a gateway business failure (`code` ≠ `10000`), a
 * transport failure, or a response that failed signature verification.
 *
 * Callers decide on `retryable` (the outbox) and on `code`/`subCode` (operator hints); never on
 * the message text.
 */
export class AlipayError extends Error {
  override name = 'AlipayError'
  readonly code: string
  readonly msg: string | undefined
  readonly subCode: string | undefined
  readonly subMsg: string | undefined
  readonly traceId: string | undefined
  readonly method: string | undefined
  readonly httpStatus: number | undefined
  readonly raw: string | undefined
  readonly retryable: boolean

  constructor(init: AlipayErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause })
    this.code = init.code
    this.msg = init.msg
    this.subCode = init.subCode
    this.subMsg = init.subMsg
    this.traceId = init.traceId
    this.method = init.method
    this.httpStatus = init.httpStatus
    this.raw = init.raw
    this.retryable = init.retryable ?? isRetryable(init)
  }
}

function describe(init: AlipayErrorInit): string {
  let text = `${init.method ?? 'alipay'}: ${init.code}`
  if (init.msg) {
    text += ` ${init.msg}`
  }
  if (init.subCode || init.subMsg) {
    text += ` (${init.subCode ?? ''}${init.subMsg ? `: ${init.subMsg}` : ''})`
  }
  if (init.traceId) {
    text += ` [traceId ${init.traceId}]`
  }
  return text
}
