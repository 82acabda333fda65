import { AppError } from '../shared/errors.js'
import { crmError, sendToCrm, type CrmSend } from './crm.js'

/** Where and how kaguan calls a merchant's CRM (the seed's three endpoints, header `token`). */
export interface CrmEndpoint {
  baseUrl: string
  token: string
  /** During a token rotation: the old token, sent when the CRM refuses `token` (401/403). */
  fallbackToken?: string
  /** Told which token the CRM accepted. */
  onTokenAccepted?: (which: 'token' | 'fallback') => void
  timeoutMs?: number
}

export interface OpenCardInfoRequest {
  /** The user's id in the app: a 2088… user_id, or (OpenID apps) an open_id. */
  alipayUserId: string
  /** The app's open_id of the user, when Alipay gave one. */
  alipayOpenId?: string
  templateId?: string
  outString?: string
  bizCardNo?: string
  name?: string
  mobile?: string
  certNo?: string
  gender?: string
}

export interface CardChangeRequest {
  type: 'ADD' | 'DEL'
  templateId: string
  alipayUserId: string
  alipayOpenId?: string
  bizCardNo: string
  alipayCardNo: string
}

export interface MdCodeChangeRequest {
  appId: string
  templateId: string
  alipayUserId: string
  expireTime: number
}

export interface MdCode {
  codeValue: string
  codeExpire: string
}

/** A checked openCardInfo answer: `point` is an integer whatever JSON type it came as. */
export interface OpenCardInfoAnswer {
  bizCardNo: string
  cardNo?: string
  point: number
  level?: string
  balance?: string
  templateId?: string
}

/** The status codes the contract allows, turned into errors that say what to fix. */
async function post(
  send: CrmSend,
  endpoint: CrmEndpoint,
  path: string,
  body: object,
): Promise<{ text: string; ms: number }> {
  const call = (token: string) =>
    send({
      baseUrl: endpoint.baseUrl,
      path,
      body: JSON.stringify(body),
      token,
      timeoutMs: endpoint.timeoutMs ?? 5_000,
    })
  const refused = (s: number) => s === 401 || s === 403
  let answer = await call(endpoint.token)
  let which: 'token' | 'fallback' = 'token'
  if (refused(answer.status) && endpoint.fallbackToken !== undefined) {
    // A token rotation the CRM has not caught up with: the old token is still the CRM's.
    answer = await call(endpoint.fallbackToken)
    which = 'fallback'
  }
  const { status } = answer
  if (!refused(status)) {
    endpoint.onTokenAccepted?.(which)
  }
  if (status === 401 || status === 403) {
    throw crmError(
      'CRM_TOKEN_REJECTED',
      `the CRM refused kaguan's token on ${path} (HTTP ${status}): the token configured in kaguan must equal the CRM's`,
      false,
      { path, status },
    )
  }
  if (status !== 200) {
    // 5xx and 429 may pass; any other status is the CRM's set-up, and trying again will not help.
    throw crmError(
      'CRM_HTTP_ERROR',
      `the CRM answered ${path} with HTTP ${status}`,
      status >= 500 || status === 429,
      { path, status },
    )
  }
  return { text: answer.text, ms: answer.ms }
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    const looksHtml = /^\s*</.test(text)
    throw crmError(
      'CRM_BAD_ANSWER',
      `the CRM's answer to ${path} is ${looksHtml ? 'HTML' : 'not JSON'}, not the JSON the contract requires`,
      false,
      { path, sample: text.slice(0, 120) },
    )
  }
}

const optionalString = (v: unknown): string | undefined =>
  v === undefined || v === null || v === '' ? undefined : String(v)

/** `/card/openCardInfo`: the member (created or found) for this Alipay user. */
async function openCardInfo(
  send: CrmSend,
  endpoint: CrmEndpoint,
  body: OpenCardInfoRequest,
): Promise<OpenCardInfoAnswer & { ms: number }> {
  const path = '/card/openCardInfo'
  const { text, ms } = await post(send, endpoint, path, body)
  const answer = parseJson(path, text)
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) {
    throw crmError('CRM_BAD_ANSWER', `the CRM's answer to ${path} is not a JSON object`, false, {
      path,
    })
  }
  const a = answer as Record<string, unknown>
  const cardNo = optionalString(a.cardNo)
  // The seed's sample answers carry the card number under both names ("有两个场景使用"): a CRM
  // that sends only `cardNo` still names its card.
  const bizCardNo = optionalString(a.bizCardNo) ?? cardNo
  if (!bizCardNo) {
    throw crmError(
      'CRM_BAD_ANSWER',
      `the CRM's answer to ${path} has no bizCardNo or cardNo (required: the member's card number)`,
      false,
      { path, field: 'bizCardNo' },
    )
  }
  if (bizCardNo.length > 32) {
    throw crmError(
      'CRM_BAD_ANSWER',
      `bizCardNo "${bizCardNo}" is longer than the 32 characters Alipay allows`,
      false,
      { path, field: 'bizCardNo' },
    )
  }
  const rawPoint = a.point
  const point =
    typeof rawPoint === 'number'
      ? rawPoint
      : typeof rawPoint === 'string' && /^-?\d+$/.test(rawPoint.trim())
        ? Number(rawPoint)
        : NaN
  if (!Number.isSafeInteger(point) || point < 0) {
    throw crmError(
      'CRM_BAD_ANSWER',
      `the CRM's answer to ${path} has point ${JSON.stringify(rawPoint)}: it must be a whole number ≥ 0 (a JSON number or a string of digits)`,
      false,
      { path, field: 'point' },
    )
  }
  const balance = optionalString(a.balance)
  if (balance !== undefined && !/^-?\d+(\.\d{1,2})?$/.test(balance)) {
    throw crmError('CRM_BAD_ANSWER', `balance "${balance}" is not an amount like 12.50`, false, {
      path,
      field: 'balance',
    })
  }
  const level = optionalString(a.level)
  const templateId = optionalString(a.templateId)
  return {
    bizCardNo,
    point,
    ms,
    ...(cardNo ? { cardNo } : {}),
    ...(level ? { level } : {}),
    ...(balance ? { balance } : {}),
    ...(templateId ? { templateId } : {}),
  }
}

/** `/card/cardChange`: tell the CRM a card was added or deleted. Its answer must be `true`. */
async function cardChange(
  send: CrmSend,
  endpoint: CrmEndpoint,
  body: CardChangeRequest,
): Promise<void> {
  const path = '/card/cardChange'
  const { text } = await post(send, endpoint, path, body)
  const answer = parseJson(path, text)
  if (answer !== true && answer !== 'true') {
    throw crmError(
      'CRM_BAD_ANSWER',
      `the CRM's answer to ${path} is ${text.slice(0, 60)}, not true`,
      true,
      { path },
    )
  }
}

/** `/card/mdCodeChange`: a dynamic code for the user's card. */
async function mdCodeChange(
  send: CrmSend,
  endpoint: CrmEndpoint,
  body: MdCodeChangeRequest,
): Promise<MdCode> {
  const path = '/card/mdCodeChange'
  const { text } = await post(send, endpoint, path, body)
  const a = parseJson(path, text) as Record<string, unknown> | null
  const codeValue = optionalString(a?.codeValue)
  const codeExpire = optionalString(a?.codeExpire)
  if (!codeValue) {
    throw crmError('CRM_BAD_ANSWER', `the CRM's answer to ${path} has no codeValue`, false, {
      path,
      field: 'codeValue',
    })
  }
  if (!codeExpire || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(codeExpire)) {
    throw crmError(
      'CRM_BAD_ANSWER',
      `the CRM's answer to ${path} has codeExpire ${JSON.stringify(a?.codeExpire)}: it must be yyyy-MM-dd HH:mm:ss`,
      false,
      { path, field: 'codeExpire' },
    )
  }
  return { codeValue, codeExpire }
}

/**
 * The CRM port in deps: the seed's three calls, each checked against the contract. Every call goes
 * through `send` (the HTTP in `ports/crm.ts`), which the conformance check also uses for the probes
 * the typed calls cannot express.
 */
export interface CrmPort {
  send: CrmSend
  openCardInfo(
    endpoint: CrmEndpoint,
    body: OpenCardInfoRequest,
  ): Promise<OpenCardInfoAnswer & { ms: number }>
  cardChange(endpoint: CrmEndpoint, body: CardChangeRequest): Promise<void>
  mdCodeChange(endpoint: CrmEndpoint, body: MdCodeChangeRequest): Promise<MdCode>
}

/** One finished contract call: which path, `success` or the errcode, how long it took. */
export interface CrmCallObservation {
  path: string
  result: string
  ms: number
}

/**
 * `observe` is told of every contract call (metrics), whatever failed: the network, the status or
 * the answer's shape. It sees no body, token or personal data.
 */
export function createCrmPort(
  send: CrmSend = sendToCrm,
  observe?: (call: CrmCallObservation) => void,
): CrmPort {
  const timed = async <T>(path: string, call: () => Promise<T>): Promise<T> => {
    if (!observe) {
      return call()
    }
    const started = performance.now()
    const report = (result: string) => {
      try {
        observe({ path, result, ms: performance.now() - started })
      } catch {
        // A metrics bug must not fail a claim.
      }
    }
    try {
      const value = await call()
      report('success')
      return value
    } catch (error) {
      report(error instanceof AppError ? error.code : 'ERROR')
      throw error
    }
  }
  return {
    send,
    openCardInfo: (endpoint, body) =>
      timed('/card/openCardInfo', () => openCardInfo(send, endpoint, body)),
    cardChange: (endpoint, body) =>
      timed('/card/cardChange', () => cardChange(send, endpoint, body)),
    mdCodeChange: (endpoint, body) =>
      timed('/card/mdCodeChange', () => mdCodeChange(send, endpoint, body)),
  }
}
