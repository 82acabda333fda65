import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  CardChangeType,
  CrmPath,
  type CardChangeRequest,
  type MdCodeChangeAnswer,
  type MdCodeChangeRequest,
  type OpenCardInfoAnswer,
  type OpenCardInfoRequest,
} from './contracts.js'
import { CrmHandlerError } from './errors.js'

/** What a callback gets besides its typed input. */
export interface CrmCallContext {
  /** The raw request (headers, socket), for logging or extra checks. */
  request: IncomingMessage
}

/** Options of {@link createCrmHandler}: the configured token and one callback per endpoint. */
export interface CrmHandlerOptions {
  /**
   * The token configured in kaguan's business-system settings; sent in the `token` header. During a
   * token rotation give both, the old and the new (any of them is accepted); drop the old one once
   * kaguan's console says the rotation is done.
   */
  token: string | readonly string[]
  openCardInfo(input: OpenCardInfoRequest, context: CrmCallContext): Promise<OpenCardInfoAnswer>
  /** Must be idempotent: kaguan retries, so the same change may arrive twice. */
  cardChange(input: CardChangeRequest, context: CrmCallContext): Promise<void | boolean>
  mdCodeChange(input: MdCodeChangeRequest, context: CrmCallContext): Promise<MdCodeChangeAnswer>
  /** Largest accepted body in bytes (default 64 KiB); larger bodies get 413. */
  maxBodyBytes?: number
  /** Called with each authenticated, parsed request before validation (e.g. to record it). */
  onRequest?(event: { path: CrmPath; body: unknown }): void
  /** Called when a callback throws something other than {@link CrmHandlerError} (default: console.error). */
  onError?(error: unknown, path: CrmPath): void
}

/** A `node:http` request listener. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void

/** The error answer of the handler: the same vocabulary as kaguan's FAIL answers, plus the field. */
export interface CrmErrorBody {
  status: 'FAIL'
  errcode: string
  errmsg: string
  field?: string
}

const DEFAULT_MAX_BODY = 64 * 1024
const KNOWN_PATHS: ReadonlySet<string> = new Set(Object.values(CrmPath))

class InputError extends Error {
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.field = field
  }
}

/**
 * Builds the CRM side of the contract as a `node:http` listener: serves `POST /card/openCardInfo`,
 * `/card/cardChange` and `/card/mdCodeChange`; checks the `token` header in constant time (401);
 * parses the JSON body with a size limit (413); validates the fields (400 naming the field); calls
 * your callback with typed input; writes the contract's answer. Other paths get 404.
 *
 * @example
 * http.createServer(createCrmHandler({ token, openCardInfo, cardChange, mdCodeChange })).listen(8082)
 */
export function createCrmHandler(options: CrmHandlerOptions): RequestListener {
  const tokens = typeof options.token === 'string' ? [options.token] : [...options.token]
  if (!tokens.length || tokens.some((t) => typeof t !== 'string' || t === '')) {
    throw new TypeError('createCrmHandler: token must be a non-empty string (or a list of them)')
  }
  const expected = tokens.map(digest)
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  const onError =
    options.onError ??
    ((error: unknown, path: CrmPath) => console.error(`crm-sdk: ${path} failed`, error))

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://crm.invalid').pathname
    if (!KNOWN_PATHS.has(path)) {
      return fail(res, 404, 'NOT_FOUND', `no endpoint at ${path}`)
    }
    const crmPath = path as CrmPath
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      return fail(res, 405, 'METHOD_NOT_ALLOWED', `${path} accepts POST only`)
    }
    if (!tokenMatches(req.headers.token, expected)) {
      // Drain the body so the client sees the 401 rather than a reset connection.
      req.resume()
      return fail(res, 401, 'TOKEN_INVALID', 'missing or wrong token header')
    }
    const body = await readBody(req, maxBody)
    if (body === TOO_LARGE) {
      res.setHeader('connection', 'close')
      req.resume()
      return fail(res, 413, 'BODY_TOO_LARGE', `body larger than ${maxBody} bytes`)
    }
    const parsed = parseBody(body, req.headers['content-type'])
    if (parsed === undefined) {
      return fail(res, 400, 'BODY_INVALID', 'body must be a JSON object')
    }
    options.onRequest?.({ path: crmPath, body: parsed })
    const context: CrmCallContext = { request: req }
    try {
      switch (crmPath) {
        case CrmPath.OpenCardInfo: {
          const answer = await options.openCardInfo(readOpenCardInfo(parsed), context)
          return sendJson(res, 200, checkOpenCardInfoAnswer(answer))
        }
        case CrmPath.CardChange: {
          const answer = await options.cardChange(readCardChange(parsed), context)
          return sendJson(res, 200, answer !== false)
        }
        case CrmPath.MdCodeChange: {
          const input = readMdCodeChange(parsed)
          const answer = await options.mdCodeChange(input, context)
          return sendJson(res, 200, checkMdCodeAnswer(answer, input))
        }
      }
    } catch (error) {
      if (error instanceof InputError) {
        return fail(res, 400, 'FIELD_INVALID', error.message, error.field)
      }
      if (error instanceof CrmHandlerError) {
        return fail(res, error.status, error.errcode, error.message)
      }
      onError(error, crmPath)
      return fail(res, 500, 'INTERNAL', 'the CRM could not process the request')
    }
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Only reachable if writing the answer itself failed (socket gone); nothing left to tell the client.
      onError(error, (req.url ?? '/') as CrmPath)
      if (!res.headersSent) {
        fail(res, 500, 'INTERNAL', 'internal error')
      } else {
        res.destroy()
      }
    })
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/**
 * Constant-time token comparison. Hashing both sides first gives equal-length buffers, so neither
 * the comparison time nor an early length check reveals how long or how right the guess was.
 */
function tokenMatches(header: string | string[] | undefined, expected: readonly Buffer[]): boolean {
  if (typeof header !== 'string' || header === '') {
    return false
  }
  const given = digest(header)
  // Every accepted token is compared, so the time does not tell which one matched.
  return expected.map((e) => timingSafeEqual(given, e)).includes(true)
}

const TOO_LARGE = Symbol('too large')

function readBody(req: IncomingMessage, limit: number): Promise<string | typeof TOO_LARGE> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.resolve(TOO_LARGE)
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    req.on('data', (chunk: Buffer) => {
      if (done) {
        return
      }
      size += chunk.length
      if (size > limit) {
        done = true
        resolve(TOO_LARGE)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (!done) {
        resolve(Buffer.concat(chunks).toString('utf8'))
      }
    })
    req.on('error', reject)
  })
}

function parseBody(
  text: string,
  contentType: string | undefined,
): Record<string, unknown> | undefined {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(trimmed)
      return value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined
    } catch {
      return undefined
    }
  }
  // kaguan sends JSON; a form body is accepted so hand-written tests (curl -d a=b) work too.
  if (contentType?.startsWith('application/x-www-form-urlencoded') && trimmed !== '') {
    return Object.fromEntries(new URLSearchParams(trimmed))
  }
  return undefined
}

/** Reads a text field: numbers are written as text, null/'' count as absent. */
function text(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field]
  if (value === undefined || value === null || value === '') {
    return undefined
  }
  if (typeof value === 'string') {
    return value
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    return String(value)
  }
  throw new InputError(field, `${field} must be a string`)
}

function requiredText(body: Record<string, unknown>, field: string): string {
  const value = text(body, field)
  if (value === undefined) {
    throw new InputError(field, `${field} is required`)
  }
  return value
}

/**
 * The user's id in the merchant's app: a 2088… user_id, or (OpenID apps) an open_id, which does
 * not start with 2088. Only its shape is checked: letters, digits, `_` and `-`, at most 128.
 */
function alipayUserId(body: Record<string, unknown>): string {
  const value = requiredText(body, 'alipayUserId')
  if (!/^[\w-]{1,128}$/.test(value)) {
    throw new InputError(
      'alipayUserId',
      'alipayUserId must be an Alipay user_id (2088…) or open_id: letters, digits, _ or -, at most 128',
    )
  }
  return value
}

/** The optional `alipayOpenId` beside `alipayUserId`. */
function alipayOpenId(body: Record<string, unknown>): { alipayOpenId?: string } {
  const value = text(body, 'alipayOpenId')
  if (value === undefined) {
    return {}
  }
  if (!/^[\w-]{1,128}$/.test(value)) {
    throw new InputError(
      'alipayOpenId',
      'alipayOpenId must be letters, digits, _ or -, at most 128',
    )
  }
  return { alipayOpenId: value }
}

function readOpenCardInfo(body: Record<string, unknown>): OpenCardInfoRequest {
  const input: OpenCardInfoRequest = { alipayUserId: alipayUserId(body), ...alipayOpenId(body) }
  for (const field of [
    'name',
    'mobile',
    'certNo',
    'gender',
    'templateId',
    'outString',
    'bizCardNo',
  ] as const) {
    const value = text(body, field)
    if (value !== undefined) {
      input[field] = value
    }
  }
  return input
}

function readCardChange(body: Record<string, unknown>): CardChangeRequest {
  const type = requiredText(body, 'type')
  if (type !== CardChangeType.Add && type !== CardChangeType.Del) {
    throw new InputError('type', 'type must be ADD or DEL')
  }
  return {
    type,
    templateId: requiredText(body, 'templateId'),
    alipayUserId: alipayUserId(body),
    ...alipayOpenId(body),
    bizCardNo: requiredText(body, 'bizCardNo'),
    alipayCardNo: requiredText(body, 'alipayCardNo'),
  }
}

function readMdCodeChange(body: Record<string, unknown>): MdCodeChangeRequest {
  const rawExpire = text(body, 'expireTime')
  // The seed's sample CRM uses 120 s when kaguan sends no expireTime.
  const expireTime = rawExpire === undefined ? 120 : Number(rawExpire)
  if (!Number.isInteger(expireTime) || expireTime <= 0) {
    throw new InputError('expireTime', 'expireTime must be a positive integer (seconds)')
  }
  return {
    appId: requiredText(body, 'appId'),
    templateId: requiredText(body, 'templateId'),
    alipayUserId: alipayUserId(body),
    expireTime,
  }
}

function checkOpenCardInfoAnswer(answer: OpenCardInfoAnswer): OpenCardInfoAnswer {
  // A bad answer is the merchant's bug: fail loudly here rather than open a broken card in Alipay.
  if (typeof answer.bizCardNo !== 'string' || answer.bizCardNo === '') {
    throw new Error('openCardInfo callback must return a non-empty bizCardNo')
  }
  if (!/^-?\d+$/.test(String(answer.point).trim())) {
    throw new Error('openCardInfo callback must return an integer point (0 when none)')
  }
  return JSON.parse(JSON.stringify(answer)) as OpenCardInfoAnswer
}

function checkMdCodeAnswer(answer: MdCodeChangeAnswer, input: MdCodeChangeRequest) {
  if (typeof answer.codeValue !== 'string' || answer.codeValue === '') {
    throw new Error('mdCodeChange callback must return a non-empty codeValue')
  }
  const codeExpire =
    answer.codeExpire instanceof Date ? formatChinaTime(answer.codeExpire) : answer.codeExpire
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(codeExpire)) {
    throw new Error('mdCodeChange callback must return codeExpire as yyyy-MM-dd HH:mm:ss')
  }
  return {
    alipayUserId: answer.alipayUserId ?? input.alipayUserId,
    codeValue: answer.codeValue,
    codeExpire,
  }
}

/**
 * Formats a time as `yyyy-MM-dd HH:mm:ss` in China time (UTC+8, no daylight saving), the form
 * Alipay and the seed's Java CRM use for `codeExpire`.
 */
export function formatChinaTime(date: Date): string {
  const shifted = new Date(date.getTime() + 8 * 3600_000)
  return shifted.toISOString().slice(0, 19).replace('T', ' ')
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  })
  res.end(payload)
}

function fail(
  res: ServerResponse,
  status: number,
  errcode: string,
  errmsg: string,
  field?: string,
): void {
  const body: CrmErrorBody = { status: 'FAIL', errcode, errmsg, ...(field ? { field } : {}) }
  sendJson(res, status, body)
}
