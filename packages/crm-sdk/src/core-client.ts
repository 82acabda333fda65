import {
  CorePath,
  type ChangeTemplateParams,
  type CoreResult,
  type UpdateCardParams,
} from './contracts.js'
import { CrmSdkError, CrmSdkErrorCode } from './errors.js'
import { signParams, toPrivateKey, withReplayGuard, type KeyInput } from './sign.js'

/** How the signed parameters travel: JSON object or `application/x-www-form-urlencoded`. */
export const CoreBodyEncoding = { Json: 'json', Form: 'form' } as const
export type CoreBodyEncoding = (typeof CoreBodyEncoding)[keyof typeof CoreBodyEncoding]

/** Options of {@link createCoreClient}. */
export interface CoreClientOptions {
  /** kaguan core's base URL, e.g. `http://127.0.0.1:8083` (a path prefix is kept). */
  baseUrl: string
  /** The CRM's RSA private key (PEM or bare base64 PKCS#8). */
  privateKey: KeyInput
  /** Per-request timeout in milliseconds (default 10 000). */
  timeoutMs?: number
  /** Add a signed `timestamp` + `nonce` to every call (default true). */
  replayGuard?: boolean
  /** Body encoding (default `json`). */
  encoding?: CoreBodyEncoding
  /** A fetch implementation (default the global one). */
  fetch?: typeof fetch
}

/** A client for kaguan core's CRM-facing API. */
export interface CoreClient {
  /** `POST /card/update`: set a member's points (and level/balance). A FAIL is a result, not a throw. */
  updateCard(params: UpdateCardParams): Promise<CoreResult>
  /** `POST /card/changeTemplate`: move a member's card to another template. */
  changeTemplate(params: ChangeTemplateParams): Promise<CoreResult>
}

/**
 * Creates a client that signs each call with the CRM's private key and posts it to kaguan core.
 * Network failures, timeouts and non-contract answers throw {@link CrmSdkError} (see `retryable`).
 */
export function createCoreClient(options: CoreClientOptions): CoreClient {
  // Parse the key once: a bad key is a startup error, not a per-call one.
  const key = toPrivateKey(options.privateKey)
  const base = options.baseUrl.replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? 10_000
  const encoding = options.encoding ?? CoreBodyEncoding.Json
  const doFetch = options.fetch ?? fetch
  const replayGuard = options.replayGuard ?? true

  async function call(path: CorePath, fields: Record<string, string>): Promise<CoreResult> {
    const params = replayGuard ? withReplayGuard(fields) : { ...fields }
    const body: Record<string, string> = { ...params, sign: signParams(params, key) }
    const init: RequestInit = {
      method: 'POST',
      headers:
        encoding === CoreBodyEncoding.Json
          ? { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' }
          : {
              'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
              accept: 'application/json',
            },
      body:
        encoding === CoreBodyEncoding.Json
          ? JSON.stringify(body)
          : new URLSearchParams(body).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    }
    let response: Response
    let text: string
    try {
      response = await doFetch(base + path, init)
      text = await response.text()
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
      throw new CrmSdkError(
        timedOut ? CrmSdkErrorCode.Timeout : CrmSdkErrorCode.Network,
        timedOut
          ? `kaguan core did not answer ${path} within ${timeoutMs} ms`
          : `kaguan core unreachable at ${base + path}: ${describe(cause)}`,
        { retryable: true },
        { cause },
      )
    }
    const result = parseCoreResult(text)
    if (result) {
      return result
    }
    if (!response.ok) {
      throw new CrmSdkError(
        CrmSdkErrorCode.HttpStatus,
        `kaguan core answered ${path} with HTTP ${response.status}: ${text.slice(0, 200)}`,
        { httpStatus: response.status, retryable: response.status >= 500 },
      )
    }
    throw new CrmSdkError(
      CrmSdkErrorCode.BadResponse,
      `kaguan core answered ${path} with an unexpected body: ${text.slice(0, 200)}`,
      { httpStatus: response.status },
    )
  }

  return {
    // async, so bad input becomes a rejected promise like every other failure.
    async updateCard(params) {
      return call(CorePath.Update, {
        templateId: required(params.templateId, 'templateId'),
        bizCardNo: required(params.bizCardNo, 'bizCardNo'),
        point: integer(params.point, 'point'),
        changeReason: required(params.changeReason, 'changeReason'),
        ...optional('level', params.level),
        ...optional('balance', params.balance),
      })
    },
    async changeTemplate(params) {
      return call(CorePath.ChangeTemplate, {
        templateId: required(params.templateId, 'templateId'),
        bizCardNo: required(params.bizCardNo, 'bizCardNo'),
        targetTemplateId: required(params.targetTemplateId, 'targetTemplateId'),
        changeReason: required(params.changeReason, 'changeReason'),
      })
    },
  }
}

/**
 * Reads kaguan's answer. Besides the contract shape it accepts kaguan's structured error body
 * (`{"error":{"code","message"}}`), which its CRM API uses for signature and validation failures.
 */
export function parseCoreResult(text: string): CoreResult | undefined {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return undefined
  }
  if (data === null || typeof data !== 'object') {
    return undefined
  }
  const record = data as Record<string, unknown>
  if (record.status === 'OK') {
    return { status: 'OK' }
  }
  if (record.status === 'FAIL') {
    return {
      status: 'FAIL',
      errmsg: typeof record.errmsg === 'string' ? record.errmsg : 'FAIL',
      ...(typeof record.errcode === 'string' ? { errcode: record.errcode } : {}),
    }
  }
  const error = record.error
  if (error !== null && typeof error === 'object') {
    const { code, message } = error as Record<string, unknown>
    if (typeof message === 'string') {
      return {
        status: 'FAIL',
        errmsg: message,
        ...(typeof code === 'string' ? { errcode: code } : {}),
      }
    }
  }
  return undefined
}

function required(value: string | undefined, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new CrmSdkError(CrmSdkErrorCode.InputInvalid, `${field} is required`, { field })
  }
  return value
}

function integer(value: number | string, field: string): string {
  const text = typeof value === 'number' ? String(value) : value
  if (typeof text !== 'string' || !/^-?\d+$/.test(text.trim())) {
    throw new CrmSdkError(CrmSdkErrorCode.InputInvalid, `${field} must be an integer`, { field })
  }
  return text.trim()
}

function optional(key: string, value: number | string | undefined): Record<string, string> {
  return value === undefined || value === '' ? {} : { [key]: String(value) }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error)
  }
  // undici hides the socket error (ECONNREFUSED…) in `cause`; that is the useful part.
  const cause = (error as { cause?: unknown }).cause
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message
}
