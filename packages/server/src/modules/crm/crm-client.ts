import { resolveAllowed } from '../../shared/address-policy.js'
import { AppError, ErrorKind } from '../../shared/errors.js'

/** Where and how kaguan calls a merchant's CRM (the seed's three endpoints, header `token`). */
export interface CrmEndpoint {
  baseUrl: string
  token: string
  timeoutMs?: number
}

export interface OpenCardInfoRequest {
  alipayUserId: string
  templateId?: string
  outString?: string
  bizCardNo?: string
  name?: string
  mobile?: string
  certNo?: string
  gender?: string
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

/** CRM failures, each with a fix; `retryable` tells the outbox whether trying again can help. */
function crmError(
  code: string,
  message: string,
  retryable: boolean,
  details: Record<string, unknown> = {},
): AppError & { retryable: boolean } {
  const kind = retryable ? ErrorKind.Unavailable : ErrorKind.Invalid
  return Object.assign(new AppError(kind, code, message, details), { retryable })
}

async function post(
  endpoint: CrmEndpoint,
  path: string,
  body: object,
): Promise<{ status: number; text: string; ms: number }> {
  const url = `${endpoint.baseUrl}${path}`
  const started = Date.now()
  let response: Response
  try {
    // Checked right before the call, after DNS: a name may have been re-pointed at a metadata
    // address since it was saved.
    await resolveAllowed('crm.baseUrl', url)
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', token: endpoint.token },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(endpoint.timeoutMs ?? 5_000),
      // Never follow: a redirect would carry the `token` header to whatever origin it names.
      redirect: 'manual',
    })
  } catch (error) {
    if (error instanceof AppError) {
      throw Object.assign(error, { retryable: false })
    }
    const timeout = (error as Error).name === 'TimeoutError'
    throw crmError(
      timeout ? 'CRM_TIMEOUT' : 'CRM_UNREACHABLE',
      timeout
        ? `the CRM did not answer ${path} within ${endpoint.timeoutMs ?? 5000} ms`
        : `cannot reach the CRM at ${url}: ${(error as Error).cause ? String((error as { cause: Error }).cause.message) : (error as Error).message}`,
      true,
      { path },
    )
  }
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location') ?? '(no Location header)'
    await response.body?.cancel()
    throw crmError(
      'CRM_REDIRECTED',
      `the CRM redirected ${path} to ${location} (HTTP ${response.status}): kaguan does not follow redirects; set the CRM base URL to the final address`,
      false,
      { path, status: response.status, location },
    )
  }
  const text = await response.text()
  const ms = Date.now() - started
  if (response.status === 401 || response.status === 403) {
    throw crmError(
      'CRM_TOKEN_REJECTED',
      `the CRM refused kaguan's token on ${path} (HTTP ${response.status}): the token configured in kaguan must equal the CRM's`,
      false,
      { path, status: response.status },
    )
  }
  if (response.status >= 500 || response.status === 429) {
    throw crmError(
      'CRM_HTTP_ERROR',
      `the CRM answered ${path} with HTTP ${response.status}`,
      true,
      { path, status: response.status },
    )
  }
  if (response.status !== 200) {
    throw crmError(
      'CRM_HTTP_ERROR',
      `the CRM answered ${path} with HTTP ${response.status}`,
      false,
      { path, status: response.status },
    )
  }
  return { status: response.status, text, ms }
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
export async function openCardInfo(
  endpoint: CrmEndpoint,
  body: OpenCardInfoRequest,
): Promise<OpenCardInfoAnswer & { ms: number }> {
  const path = '/card/openCardInfo'
  const { text, ms } = await post(endpoint, path, body)
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
export async function cardChange(
  endpoint: CrmEndpoint,
  body: {
    type: 'ADD' | 'DEL'
    templateId: string
    alipayUserId: string
    bizCardNo: string
    alipayCardNo: string
  },
): Promise<void> {
  const path = '/card/cardChange'
  const { text } = await post(endpoint, path, body)
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
export async function mdCodeChange(
  endpoint: CrmEndpoint,
  body: { appId: string; templateId: string; alipayUserId: string; expireTime: number },
): Promise<{ codeValue: string; codeExpire: string }> {
  const path = '/card/mdCodeChange'
  const { text } = await post(endpoint, path, body)
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
