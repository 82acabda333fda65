import { createHash, createPublicKey, randomInt, type KeyObject } from 'node:crypto'
import { AppError } from '../../shared/errors.js'
import type { CrmRawAnswer, CrmSend } from '../../ports/crm.js'
import type {
  CrmEndpoint,
  CrmPort,
  OpenCardInfoAnswer,
  OpenCardInfoRequest,
} from '../../ports/crm-client.js'

/** The outcome of one conformance check. `skip`: it needs something an earlier check could not get. */
export const CheckStatus = { Pass: 'pass', Fail: 'fail', Warn: 'warn', Skip: 'skip' } as const
export type CheckStatus = (typeof CheckStatus)[keyof typeof CheckStatus]

/** One row of the conformance report. */
export interface CrmCheckRow {
  /** Stable id, e.g. `open.idempotent`: what scripts and the docs refer to. */
  id: string
  /** The CRM path called, or `-` for local checks (the public key). */
  endpoint: string
  /** Short label, zh-CN then English. */
  what: string
  status: CheckStatus
  /** What was observed (never the token). */
  detail: string
  /** What the CRM team should change; set on failures and warnings. */
  fix?: string
  /** Time of the call this row judges, when there was one. */
  ms?: number
}

/** What {@link checkCrm} found. `ok` is false when any row failed (warnings do not fail it). */
export interface CrmCheckReport {
  ok: boolean
  /** The base URL checked, without any user:password part. */
  url: string
  /** The made-up Alipay user the checker registered, so the CRM team can find and delete it. */
  probeUserId: string
  passed: number
  failed: number
  warnings: number
  skipped: number
  checks: CrmCheckRow[]
  /** How to test the CRM's signer by hand; present when a public key was checked. */
  signingHint?: string[]
}

/** Options of {@link checkCrm}. */
export interface CrmCheckOptions {
  /** The CRM's base URL; kaguan appends `/card/openCardInfo` etc. */
  baseUrl: string
  /** The token kaguan sends in the `token` header. Never appears in the report. */
  token: string
  /** The CRM's RSA2 public key (PEM or bare base64 SPKI/PKCS#1 text, not a path). */
  publicKey?: string
  /** Limit for every HTTP call. */
  timeoutMs: number
  /** The Alipay user to probe with (default: `2088` + 12 random digits). */
  probeUserId?: string
  /**
   * The level codes the merchant's templates define: a level the CRM answers outside them makes
   * every claim fail (`CRM_LEVEL_UNKNOWN`), so the check says so before a customer sees it.
   */
  levelCodes?: readonly string[]
  /**
   * The Alipay template id the openCardInfo probe names (`crm-check --template`), so a CRM that
   * picks levels by template answers as it would for a real claim; the other probes keep a dummy.
   */
  templateId?: string
  /** Whether kaguan requires timestamp + nonce of this merchant's CRM; false adds a warning. */
  replayStrict?: boolean
}

const PATH = {
  open: '/card/openCardInfo',
  change: '/card/cardChange',
  mdcode: '/card/mdCodeChange',
} as const

// Users wait on openCardInfo while Alipay shows a spinner during the claim.
const LATENCY_WARN_MS = 1_000
const LATENCY_FAIL_MS = 3_000
const PROBE_TEMPLATE_ID = '20200227000000002181302000300947'
const PROBE_APP_ID = '2021000000000000'
const PROBE_EXPIRE_SECONDS = 120
const CHINA_OFFSET_MS = 8 * 3600_000
const MIN_KEY_BITS = 2048

/** What an unauthenticated caller could do through each endpoint, for the token rows. */
const RISK = {
  open: 'anyone who finds the URL can register members and read their points',
  change: "anyone who finds the URL can mark members' cards opened or deleted",
  mdcode: "anyone who finds the URL can fetch a member's payment code",
} as const

const FIX = {
  idempotent: 'look the member up by alipayUserId before creating one',
  tokenCheck:
    'the CRM must check the token header in constant time (crypto.timingSafeEqual / MessageDigest.isEqual) and answer 401 when it is missing or wrong',
  tokenStatus:
    'answer HTTP 401 for a missing or wrong token, so kaguan can tell the operator the token is wrong',
  validate:
    'validate the body before using it: answer HTTP 400 naming the bad field ({"status":"FAIL","errcode":"FIELD_INVALID","field":…})',
  latency:
    'answer openCardInfo within 1 s: look members up by an index on alipayUserId and do slow work (gifts, SMS) asynchronously',
  trueAnswer: 'answer HTTP 200 with the JSON body true (not an object, not text)',
  changeIdempotent:
    'make cardChange idempotent: set the card state keyed by bizCardNo/alipayCardNo and answer true when it is already so',
} as const

/** Base URL for display: without user:password, without a trailing slash. */
function displayUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl)
    url.username = ''
    url.password = ''
    return url.toString().replace(/\/$/, '')
  } catch {
    return baseUrl
  }
}

/**
 * A raw POST for the checks kaguan's client cannot express (a wrong or missing token, a broken
 * body), through the same port and so the same address policy, limits and no-redirect rule.
 * Resolves with an Error on timeout or network failure so callers report rather than throw.
 */
async function rawPost(
  send: CrmSend,
  baseUrl: string,
  path: string,
  body: string,
  token: string | undefined,
  timeoutMs: number,
): Promise<CrmRawAnswer | Error> {
  try {
    return await send({ baseUrl, path, body, token, timeoutMs })
  } catch (error) {
    return new Error(error instanceof AppError ? error.message : String(error))
  }
}

/** Runs one of kaguan's own client calls, timing it and catching its error. */
type Timed<T> = { value: T; ms: number } | { error: unknown; ms: number }

async function timed<T>(call: () => Promise<T>): Promise<Timed<T>> {
  const started = Date.now()
  try {
    const value = await call()
    return { value, ms: Date.now() - started }
  } catch (error) {
    return { error, ms: Date.now() - started }
  }
}

function describeError(error: unknown): string {
  return error instanceof AppError ? `${error.code}: ${error.message}` : String(error)
}

/** The fix for an error raised by kaguan's CRM client: by code, then by the field at fault. */
function fixFor(error: unknown, path: string): string {
  if (!(error instanceof AppError)) {
    return 'see the detail'
  }
  const details = error.details as { field?: string; status?: number }
  switch (error.code) {
    case 'CRM_TIMEOUT':
      return `answer ${path} within the timeout (kaguan waits 5 s at most); do slow work asynchronously`
    case 'CRM_UNREACHABLE':
      return 'check the URL (scheme, host, port) and that the CRM listens on an address kaguan can reach'
    case 'CRM_TOKEN_REJECTED':
      return "the --token must equal the CRM's token (the one configured in kaguan's 业务系统 settings)"
    case 'CRM_HTTP_ERROR': {
      const status = details.status ?? 0
      if (status === 404) {
        return `serve POST ${path} under the base URL (kaguan appends ${path} to it)`
      }
      if (status === 405) {
        return `accept POST on ${path}`
      }
      if (status >= 500) {
        return `the CRM failed on a valid request: see its log; answer HTTP 200 with the contract's JSON`
      }
      return `answer a valid request to ${path} with HTTP 200 and the contract's JSON`
    }
  }
  switch (details.field) {
    case 'bizCardNo':
      return "answer bizCardNo: the member's card number, a string of at most 32 characters"
    case 'point':
      return 'answer point as a whole number ≥ 0: a JSON number or a string of digits, 0 when none'
    case 'balance':
      return 'answer balance as an amount like "12.50" (a string or a number)'
    case 'codeValue':
      return 'answer codeValue: the non-empty code shown on the card'
    case 'codeExpire':
      return 'answer codeExpire as yyyy-MM-dd HH:mm:ss in China time (UTC+8)'
  }
  if (path === PATH.change) {
    return FIX.trueAnswer
  }
  return 'answer JSON (content-type application/json), not an HTML or error page: check the path and that no login page or proxy answers instead of the CRM'
}

/** How a CRM answered a request it must refuse for a missing or wrong token. */
function judgeRefusal(
  answer: CrmRawAnswer | Error,
  label: string,
  risk: string,
): Pick<CrmCheckRow, 'status' | 'detail' | 'fix' | 'ms'> {
  if (answer instanceof Error) {
    return {
      status: CheckStatus.Fail,
      detail: `${label}: ${answer.message}`,
      fix: FIX.tokenStatus,
    }
  }
  const { status, ms } = answer
  if (status === 401 || status === 403) {
    return { status: CheckStatus.Pass, detail: `${label}: refused, HTTP ${status}`, ms }
  }
  if (status >= 200 && status < 300) {
    return {
      status: CheckStatus.Fail,
      detail: `${label}: accepted (HTTP ${status}): ${risk}`,
      fix: FIX.tokenCheck,
      ms,
    }
  }
  if (status >= 400 && status < 500) {
    return {
      status: CheckStatus.Warn,
      detail: `${label}: refused, but with HTTP ${status} instead of 401`,
      fix: FIX.tokenStatus,
      ms,
    }
  }
  return {
    status: CheckStatus.Fail,
    detail: `${label}: HTTP ${status}: the CRM fails instead of refusing`,
    fix: FIX.tokenCheck,
    ms,
  }
}

/** A request the CRM must refuse as bad input: 4xx passes, 2xx and 5xx fail. */
function judgeBadInput(
  answer: CrmRawAnswer | Error,
  accepted: string,
): Pick<CrmCheckRow, 'status' | 'detail' | 'fix' | 'ms'> {
  if (answer instanceof Error) {
    return { status: CheckStatus.Fail, detail: answer.message, fix: FIX.validate }
  }
  const { status, ms } = answer
  if (status >= 400 && status < 500) {
    return { status: CheckStatus.Pass, detail: `refused, HTTP ${status}`, ms }
  }
  if (status >= 500) {
    return {
      status: CheckStatus.Fail,
      detail: `HTTP ${status}: the CRM crashes on bad input instead of refusing it`,
      fix: FIX.validate,
      ms,
    }
  }
  return { status: CheckStatus.Fail, detail: `HTTP ${status}: ${accepted}`, fix: FIX.validate, ms }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * Field types kaguan's client is lenient about (it turns anything into text) but the contract fixes:
 * a CRM answering `level: {…}` would show "[object Object]" on the card.
 */
function typeProblems(answer: Record<string, unknown>): string[] {
  const problems: string[] = []
  if (typeof answer.bizCardNo === 'number') {
    problems.push('bizCardNo is a JSON number (long numbers lose digits in JSON: send a string)')
  }
  for (const field of ['cardNo', 'level', 'templateId'] as const) {
    const value = answer[field]
    if (value !== undefined && value !== null && typeof value !== 'string') {
      problems.push(`${field} is ${JSON.stringify(value)}: it must be a string`)
    }
  }
  const balance = answer.balance
  if (
    balance !== undefined &&
    balance !== null &&
    balance !== '' &&
    !(typeof balance === 'string' || typeof balance === 'number')
  ) {
    problems.push(`balance is ${JSON.stringify(balance)}: it must be an amount like "12.50"`)
  }
  return problems
}

/**
 * Parses `yyyy-MM-dd HH:mm:ss` as a time in the given zone offset; undefined when it is not a real
 * calendar time (kaguan's client checks only the shape, so `2024-13-45 25:61:00` would pass it).
 */
function parseZoned(text: string, offsetMs: number): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text)
  if (!m) {
    return undefined
  }
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const utc = Date.UTC(y, mo - 1, d, h, mi, s)
  const back = new Date(utc)
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    return undefined
  }
  return utc - offsetMs
}

/** Judges `codeExpire`: a real China-time instant after now and at most expireTime + 1 min ahead. */
function judgeExpire(
  codeExpire: string,
  expireSeconds: number,
  now: number,
): Pick<CrmCheckRow, 'status' | 'detail' | 'fix'> {
  const at = parseZoned(codeExpire, CHINA_OFFSET_MS)
  const fix = `answer codeExpire = now + expireTime seconds, formatted yyyy-MM-dd HH:mm:ss in China time (UTC+8, Asia/Shanghai)`
  if (at === undefined) {
    return {
      status: CheckStatus.Fail,
      detail: `codeExpire "${codeExpire}" is not a real date and time`,
      fix,
    }
  }
  const latest = now + expireSeconds * 1000 + 60_000
  if (at > now && at <= latest) {
    return {
      status: CheckStatus.Pass,
      detail: `codeExpire ${codeExpire} (in ${Math.round((at - now) / 1000)} s; expireTime ${expireSeconds} s)`,
    }
  }
  // A right-looking time 8 hours off is the usual bug: the server formats in UTC or its own zone.
  const asUtc = at + CHINA_OFFSET_MS
  const hint =
    asUtc > now && asUtc <= latest
      ? ': it looks like UTC; format the time in China time (UTC+8)'
      : ''
  const when =
    at <= now
      ? 'in the past'
      : `${Math.round((at - now) / 1000)} s ahead, more than expireTime + 60 s`
  return {
    status: CheckStatus.Fail,
    detail: `codeExpire ${codeExpire} is ${when} (China time)${hint}`,
    fix,
  }
}

/** Reads an RSA public key from PEM or bare base64 (SPKI, or PKCS#1 as some tools write it). */
function readPublicKey(text: string): KeyObject {
  const trimmed = text.trim()
  // Key files often carry a comment line before the armour (ours do): take the PEM block itself.
  const pem = /-----BEGIN [A-Z0-9 ]+-----[\s\S]+?-----END [A-Z0-9 ]+-----/.exec(trimmed)?.[0]
  if (pem) {
    return createPublicKey(pem)
  }
  const der = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64')
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' })
  } catch {
    return createPublicKey({ key: der, format: 'der', type: 'pkcs1' })
  }
}

function checkPublicKey(text: string): CrmCheckRow {
  const base = { id: 'key.rsa', endpoint: '-', what: 'CRM 公钥 public key' }
  // createPublicKey happily derives a public key from a private one: catch the leak first.
  if (/PRIVATE KEY/.test(text)) {
    return {
      ...base,
      status: CheckStatus.Fail,
      detail: 'this is a PRIVATE key: it must never leave the CRM',
      fix: 'give kaguan the public key (openssl pkey -in crm-private.pem -pubout), and make a new key pair since this one was shared',
    }
  }
  let key: KeyObject
  try {
    key = readPublicKey(text)
  } catch {
    return {
      ...base,
      status: CheckStatus.Fail,
      detail: 'not an RSA public key in PEM or base64 DER (X.509/SPKI) form',
      fix: 'pass the PEM file (-----BEGIN PUBLIC KEY-----) or its base64 body on one line',
    }
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (key.asymmetricKeyType !== 'rsa') {
    return {
      ...base,
      status: CheckStatus.Fail,
      detail: `a ${key.asymmetricKeyType ?? 'unknown'} key, not RSA: kaguan verifies SHA256withRSA signatures`,
      fix: 'make an RSA 2048 key pair: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out crm-private.pem',
    }
  }
  const fingerprint = createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
  const detail = `RSA ${bits} bits, sha256 ${fingerprint.slice(0, 16)}…`
  if (bits < MIN_KEY_BITS) {
    return {
      ...base,
      status: CheckStatus.Warn,
      detail,
      fix: 'use an RSA key of at least 2048 bits (RSA2); shorter keys can be broken',
    }
  }
  return { ...base, status: CheckStatus.Pass, detail }
}

const SIGNING_HINT = [
  '签名自检 / test your signer:',
  '  1. sign the parameters of docs/crm-integration.md appendix A with the TEST private key of appendix B;',
  '     your string to sign and signature must equal each vector byte for byte (Java: java docs/java/SignHelper.java <key.pem>).',
  '  2. sign a /card/update body with your own private key and verify it with the public key you checked:',
  '     printf %s "<string to sign>" > s.txt; openssl dgst -sha256 -sign crm-private.pem -out s.sig s.txt;',
  '     openssl dgst -sha256 -verify crm-public.pem -signature s.sig s.txt   # must print "Verified OK"',
]

/** Replaces every occurrence of the token in the report's text, whatever the CRM echoed back. */
function redact(rows: CrmCheckRow[], token: string): CrmCheckRow[] {
  // A token this short is no secret worth garbling the whole report for.
  if (token.length < 4) {
    return rows
  }
  const scrub = (text: string) => text.split(token).join('***')
  return rows.map((row) => ({
    ...row,
    detail: scrub(row.detail),
    ...(row.fix === undefined ? {} : { fix: scrub(row.fix) }),
  }))
}

/** Wrong tokens the CRM must refuse (sent only to the CRM itself, and redacted if echoed). */
function wrongTokens(token: string): string[] {
  const last = token.at(-1) === 'x' ? 'y' : 'x'
  // Same length with one character changed catches a prefix check; a longer one catches startsWith.
  return [`${token.slice(0, -1)}${last}`, `${token}x`]
}

/** What the steps of one check share: where and how to call, and what earlier steps learned. */
interface CheckRun {
  crm: CrmPort
  options: CrmCheckOptions
  endpoint: CrmEndpoint
  baseUrl: string
  token: string
  timeoutMs: number
  probeUserId: string
  probe: OpenCardInfoRequest & { templateId: string }
  add: (row: CrmCheckRow) => void
  /** Step 1's answer, judged again by step 2. */
  first?: Timed<OpenCardInfoAnswer>
  /** The probe member's card number, once a step has seen one. */
  bizCardNo?: string | undefined
}

/** `stop`: nothing after this step can succeed (the CRM is unreachable); one row beats fifteen. */
type StepOutcome = 'next' | 'stop'

/** The checks in the order they run; the CLI and the console's "test the CRM" both run these. */
const STEPS: readonly ((run: CheckRun) => Promise<StepOutcome>)[] = [
  openCardAnswer,
  openCardRepeated,
  openCardToken,
  openCardBadInput,
  cardChangeCalls,
  mdCodeCalls,
]

/**
 * Checks a merchant CRM's three endpoints against the contract (docs/crm-integration.md) the way
 * kaguan will call them: kaguan's own client judges the answers, and raw calls probe what a CRM
 * must refuse (a wrong or missing token, a body without alipayUserId, a body that is not JSON).
 * Registers one test member (the report's `probeUserId`) and reports; never throws for CRM faults.
 */
export async function checkCrm(crm: CrmPort, options: CrmCheckOptions): Promise<CrmCheckReport> {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const { token, timeoutMs } = options
  const probeUserId =
    options.probeUserId ??
    `2088${String(randomInt(0, 1e6)).padStart(6, '0')}${String(randomInt(0, 1e6)).padStart(6, '0')}`
  const rows: CrmCheckRow[] = []
  const run: CheckRun = {
    crm,
    options,
    endpoint: { baseUrl, token, timeoutMs },
    baseUrl,
    token,
    timeoutMs,
    probeUserId,
    probe: {
      alipayUserId: probeUserId,
      name: '卡管自检',
      mobile: '13800138000',
      gender: 'MALE',
      templateId: options.templateId ?? PROBE_TEMPLATE_ID,
      outString: 'kaguan-crm-check',
    },
    add: (row) => rows.push(row),
  }
  for (const step of STEPS) {
    if ((await step(run)) === 'stop') {
      break
    }
  }
  return finish(rows, options, baseUrl, probeUserId)
}

/** A valid claim, judged by kaguan's own client, and how long it took. */
async function openCardAnswer(run: CheckRun): Promise<StepOutcome> {
  const { crm, options, endpoint, probe, timeoutMs, add } = run
  const first = await timed(() => crm.openCardInfo(endpoint, probe))
  const openRow = { id: 'open.answer', endpoint: PATH.open, what: '开卡应答 answer shape' }
  if ('error' in first) {
    const code = first.error instanceof AppError ? first.error.code : ''
    add({
      ...openRow,
      status: CheckStatus.Fail,
      detail: describeError(first.error),
      fix: fixFor(first.error, PATH.open),
      ms: first.ms,
    })
    if (code === 'CRM_UNREACHABLE') {
      // Nothing else can run; one clear row beats fifteen identical ones.
      return 'stop'
    }
  } else {
    const a = first.value
    const extras = [
      a.level && `level ${a.level}`,
      a.balance && `balance ${a.balance}`,
      a.templateId && `templateId ${a.templateId}`,
    ]
    add({
      ...openRow,
      status: CheckStatus.Pass,
      detail: [`bizCardNo ${a.bizCardNo}`, `point ${a.point}`, ...extras.filter(Boolean)].join(
        ', ',
      ),
      ms: first.ms,
    })
    if (options.levelCodes) {
      add(judgeLevel(a.level, options.levelCodes))
    }
  }
  const latency = { id: 'open.latency', endpoint: PATH.open, what: '耗时 latency', ms: first.ms }
  const timedOut =
    'error' in first && first.error instanceof AppError && first.error.code === 'CRM_TIMEOUT'
  if (timedOut || first.ms > LATENCY_FAIL_MS) {
    add({
      ...latency,
      status: CheckStatus.Fail,
      detail: timedOut
        ? `no answer within ${timeoutMs} ms`
        : `${first.ms} ms (over ${LATENCY_FAIL_MS} ms): users wait on this during a claim`,
      fix: FIX.latency,
    })
  } else if (first.ms > LATENCY_WARN_MS) {
    add({
      ...latency,
      status: CheckStatus.Warn,
      detail: `${first.ms} ms (over ${LATENCY_WARN_MS} ms)`,
      fix: FIX.latency,
    })
  } else {
    add({ ...latency, status: CheckStatus.Pass, detail: `${first.ms} ms` })
  }

  run.first = first
  return 'next'
}

/** The same claim twice more (kaguan's client, then raw for the types kaguan's client coerces). */
async function openCardRepeated(run: CheckRun): Promise<StepOutcome> {
  const { crm, endpoint, probe, baseUrl, token, timeoutMs, add } = run
  const second = await timed(() => crm.openCardInfo(endpoint, probe))
  const raw = await rawPost(crm.send, baseUrl, PATH.open, JSON.stringify(probe), token, timeoutMs)
  const rawAnswer =
    raw instanceof Error || raw.status !== 200 ? undefined : parseJsonObject(raw.text)
  const rawBizCardNo =
    typeof rawAnswer?.bizCardNo === 'string' || typeof rawAnswer?.bizCardNo === 'number'
      ? String(rawAnswer.bizCardNo)
      : undefined
  const typesRow = { id: 'open.types', endpoint: PATH.open, what: '字段类型 field types' }
  if (!rawAnswer) {
    const why =
      raw instanceof Error
        ? raw.message
        : `HTTP ${raw.status}, ${/^\s*</.test(raw.text) ? 'HTML' : 'not a JSON object'}`
    add({ ...typesRow, status: CheckStatus.Skip, detail: `no JSON object to inspect (${why})` })
  } else {
    const problems = typeProblems(rawAnswer)
    const json = raw instanceof Error ? true : /json/i.test(raw.contentType)
    if (problems.length > 0) {
      add({
        ...typesRow,
        status: CheckStatus.Fail,
        detail: problems.join('; '),
        fix: 'answer the fields with the types of docs/crm-integration.md 2.1 (strings; point an integer; balance an amount)',
      })
    } else if (!json) {
      add({
        ...typesRow,
        status: CheckStatus.Warn,
        detail: `content-type "${(raw as CrmRawAnswer).contentType}"`,
        fix: 'send content-type: application/json; charset=utf-8',
      })
    } else {
      add({
        ...typesRow,
        status: CheckStatus.Pass,
        detail: 'no field of the wrong type; content-type JSON',
      })
    }
  }
  const seen = [
    run.first && 'value' in run.first ? run.first.value.bizCardNo : undefined,
    'value' in second ? second.value.bizCardNo : undefined,
    rawBizCardNo,
  ].filter((v): v is string => v !== undefined)
  if (seen.length === 1 && rawBizCardNo !== undefined) {
    // kaguan's client refused the answers (say, a bad point) but they carry a bizCardNo: idempotency
    // is a separate fault, so judge it from one more raw call rather than skip it.
    const again = await rawPost(
      crm.send,
      baseUrl,
      PATH.open,
      JSON.stringify(probe),
      token,
      timeoutMs,
    )
    const card = again instanceof Error ? undefined : parseJsonObject(again.text)?.bizCardNo
    if (typeof card === 'string' || typeof card === 'number') {
      seen.push(String(card))
    }
  }
  const idem = { id: 'open.idempotent', endpoint: PATH.open, what: '重复调用 same member' }
  const bizCardNo = seen[0]
  if (seen.length < 2) {
    add({
      ...idem,
      status: CheckStatus.Skip,
      detail: 'fewer than two answers with a bizCardNo to compare',
    })
  } else if (new Set(seen).size === 1) {
    add({
      ...idem,
      status: CheckStatus.Pass,
      detail: `${seen.length} calls, the same bizCardNo ${bizCardNo}`,
    })
  } else {
    add({
      ...idem,
      status: CheckStatus.Fail,
      detail: `one alipayUserId got bizCardNo ${[...new Set(seen)].join(', ')}: a retried claim would register a second member`,
      fix: FIX.idempotent,
    })
  }

  run.bizCardNo = bizCardNo
  return 'next'
}

/** The token check: a wrong and a missing token must be refused. */
async function openCardToken(run: CheckRun): Promise<StepOutcome> {
  const { crm, probe, baseUrl, token, timeoutMs, add } = run
  const wrong = await Promise.all(
    wrongTokens(token).map((t) =>
      rawPost(crm.send, baseUrl, PATH.open, JSON.stringify(probe), t, timeoutMs),
    ),
  )
  const wrongJudged = wrong.map((answer) => judgeRefusal(answer, 'wrong token', RISK.open))
  add({
    id: 'open.token-wrong',
    endpoint: PATH.open,
    what: '错误 token wrong token',
    ...(wrongJudged.find((j) => j.status === CheckStatus.Fail) ??
      wrongJudged.find((j) => j.status === CheckStatus.Warn) ??
      wrongJudged[0]!),
  })
  const missing = await rawPost(
    crm.send,
    baseUrl,
    PATH.open,
    JSON.stringify(probe),
    undefined,
    timeoutMs,
  )
  add({
    id: 'open.token-missing',
    endpoint: PATH.open,
    what: '缺少 token missing token',
    ...judgeRefusal(missing, 'no token header', RISK.open),
  })

  return 'next'
}

/** Invalid input must be refused. */
async function openCardBadInput(run: CheckRun): Promise<StepOutcome> {
  const { crm, probe, baseUrl, token, timeoutMs, add } = run
  const { alipayUserId: _omitted, ...noUser } = probe
  const noUserAnswer = await rawPost(
    crm.send,
    baseUrl,
    PATH.open,
    JSON.stringify(noUser),
    token,
    timeoutMs,
  )
  add({
    id: 'open.no-user',
    endpoint: PATH.open,
    what: '缺 alipayUserId missing user',
    ...judgeBadInput(noUserAnswer, 'accepted a claim without alipayUserId'),
  })
  const notJson = await rawPost(
    crm.send,
    baseUrl,
    PATH.open,
    'alipayUserId=2088 this is not JSON',
    token,
    timeoutMs,
  )
  add({
    id: 'open.not-json',
    endpoint: PATH.open,
    what: '非 JSON 请求体 non-JSON body',
    ...judgeBadInput(notJson, 'accepted a body that is not JSON'),
  })

  return 'next'
}

/** cardChange: ADD, ADD again, DEL, each judged by kaguan's client (the answer must be true). */
async function cardChangeCalls(run: CheckRun): Promise<StepOutcome> {
  const { crm, endpoint, probeUserId, baseUrl, token, timeoutMs, add } = run
  const alipayCardNo = `2099${String(randomInt(0, 1e8)).padStart(8, '0')}${String(randomInt(0, 1e8)).padStart(8, '0')}`
  const change = (type: 'ADD' | 'DEL', cardNo: string) =>
    timed(() =>
      crm.cardChange(endpoint, {
        type,
        templateId: PROBE_TEMPLATE_ID,
        alipayUserId: probeUserId,
        bizCardNo: cardNo,
        alipayCardNo,
      }),
    )
  const changeRows = [
    { id: 'change.add', what: '开卡通知 ADD', type: 'ADD' },
    { id: 'change.add-again', what: '重复 ADD repeated', type: 'ADD' },
    { id: 'change.del', what: '删卡通知 DEL', type: 'DEL' },
  ] as const
  let addPassed = false
  for (const spec of changeRows) {
    const row = { id: spec.id, endpoint: PATH.change, what: spec.what }
    if (run.bizCardNo === undefined) {
      add({ ...row, status: CheckStatus.Skip, detail: 'needs a bizCardNo from openCardInfo' })
      continue
    }
    const result = await change(spec.type, run.bizCardNo)
    if ('value' in result) {
      if (spec.id === 'change.add') {
        addPassed = true
      }
      add({ ...row, status: CheckStatus.Pass, detail: 'answered true', ms: result.ms })
    } else {
      const fix =
        spec.id === 'change.add-again' && addPassed
          ? FIX.changeIdempotent
          : fixFor(result.error, PATH.change)
      add({
        ...row,
        status: CheckStatus.Fail,
        detail: describeError(result.error),
        fix,
        ms: result.ms,
      })
    }
  }
  const changeBody = {
    type: 'ADD',
    templateId: PROBE_TEMPLATE_ID,
    alipayUserId: probeUserId,
    bizCardNo: run.bizCardNo ?? 'KGCHECK',
    alipayCardNo,
  }
  const changeWrong = await rawPost(
    crm.send,
    baseUrl,
    PATH.change,
    JSON.stringify(changeBody),
    wrongTokens(token)[0],
    timeoutMs,
  )
  add({
    id: 'change.token-wrong',
    endpoint: PATH.change,
    what: '错误 token wrong token',
    ...judgeRefusal(changeWrong, 'wrong token', RISK.change),
  })

  return 'next'
}

/** mdCodeChange: kaguan's client for the shape, the clock for codeExpire, raw for the echo. */
async function mdCodeCalls(run: CheckRun): Promise<StepOutcome> {
  const { crm, endpoint, probeUserId, baseUrl, token, timeoutMs, add } = run
  const mdBody = {
    appId: PROBE_APP_ID,
    templateId: PROBE_TEMPLATE_ID,
    alipayUserId: probeUserId,
    expireTime: PROBE_EXPIRE_SECONDS,
  }
  const code = await timed(() => crm.mdCodeChange(endpoint, mdBody))
  const mdRow = { id: 'mdcode.answer', endpoint: PATH.mdcode, what: '动态码 answer shape' }
  const expireRow = { id: 'mdcode.expire', endpoint: PATH.mdcode, what: '过期时间 codeExpire' }
  if ('value' in code) {
    add({
      ...mdRow,
      status: CheckStatus.Pass,
      detail: `codeValue ${code.value.codeValue}`,
      ms: code.ms,
    })
    add({ ...expireRow, ...judgeExpire(code.value.codeExpire, PROBE_EXPIRE_SECONDS, Date.now()) })
  } else {
    add({
      ...mdRow,
      status: CheckStatus.Fail,
      detail: describeError(code.error),
      fix: fixFor(code.error, PATH.mdcode),
      ms: code.ms,
    })
    add({ ...expireRow, status: CheckStatus.Skip, detail: 'needs a valid mdCodeChange answer' })
  }
  const mdRaw = await rawPost(
    crm.send,
    baseUrl,
    PATH.mdcode,
    JSON.stringify(mdBody),
    token,
    timeoutMs,
  )
  const mdAnswer =
    mdRaw instanceof Error || mdRaw.status !== 200 ? undefined : parseJsonObject(mdRaw.text)
  const echoRow = { id: 'mdcode.echo', endpoint: PATH.mdcode, what: '回传用户 echo alipayUserId' }
  if (!mdAnswer) {
    add({ ...echoRow, status: CheckStatus.Skip, detail: 'no JSON object to inspect' })
  } else if (mdAnswer.alipayUserId === probeUserId) {
    add({ ...echoRow, status: CheckStatus.Pass, detail: 'alipayUserId echoed' })
  } else if (mdAnswer.alipayUserId === undefined || mdAnswer.alipayUserId === null) {
    add({
      ...echoRow,
      status: CheckStatus.Warn,
      detail: 'no alipayUserId in the answer',
      fix: "echo the request's alipayUserId in the answer",
    })
  } else {
    add({
      ...echoRow,
      status: CheckStatus.Fail,
      detail: `alipayUserId ${JSON.stringify(mdAnswer.alipayUserId)} is not the requested user`,
      fix: "answer the code of the requested user and echo the request's alipayUserId",
    })
  }
  const mdWrong = await rawPost(
    crm.send,
    baseUrl,
    PATH.mdcode,
    JSON.stringify(mdBody),
    wrongTokens(token)[0],
    timeoutMs,
  )
  add({
    id: 'mdcode.token-wrong',
    endpoint: PATH.mdcode,
    what: '错误 token wrong token',
    ...judgeRefusal(mdWrong, 'wrong token', RISK.mdcode),
  })

  return 'next'
}

/** The level the CRM answered must be one of the template's level codes (not its name). */
function judgeLevel(level: string | undefined, codes: readonly string[]): CrmCheckRow {
  const row = { id: 'open.level', endpoint: PATH.open, what: '会员等级 level code' }
  if (level === undefined || codes.includes(level)) {
    return { ...row, status: CheckStatus.Pass, detail: level ? `level ${level}` : 'no level' }
  }
  return {
    ...row,
    status: CheckStatus.Fail,
    detail: `level "${level}" is not a level code of the published templates (${codes.join(', ') || 'none defined'}): claims of such members fail with CRM_LEVEL_UNKNOWN`,
    fix: `answer one of the template's level codes (${codes.join(', ') || 'define levels in the template first'}), not the level's name`,
  }
}

/** Without timestamp + nonce required, an old captured /card/update can be replayed. */
function judgeReplayGuard(strict: boolean): CrmCheckRow {
  const row = { id: 'core.replay', endpoint: '-', what: '防重放 replay guard' }
  return strict
    ? { ...row, status: CheckStatus.Pass, detail: 'timestamp and nonce are required' }
    : {
        ...row,
        status: CheckStatus.Warn,
        detail:
          'strict mode is off: a captured /card/update without timestamp + nonce can be replayed later and roll points back',
        fix: 'send timestamp and nonce on every call, then turn strict mode on (merchant CRM settings: strictReplay)',
      }
}

function finish(
  rows: CrmCheckRow[],
  options: CrmCheckOptions,
  baseUrl: string,
  probeUserId: string,
): CrmCheckReport {
  // 7. The public key and the replay guard, checked locally.
  if (options.publicKey !== undefined) {
    rows.push(checkPublicKey(options.publicKey))
  }
  if (options.replayStrict !== undefined) {
    rows.push(judgeReplayGuard(options.replayStrict))
  }
  const checks = redact(rows, options.token)
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length
  const failed = count(CheckStatus.Fail)
  return {
    ok: failed === 0,
    url: displayUrl(baseUrl),
    probeUserId,
    passed: count(CheckStatus.Pass),
    failed,
    warnings: count(CheckStatus.Warn),
    skipped: count(CheckStatus.Skip),
    checks,
    ...(options.publicKey === undefined ? {} : { signingHint: SIGNING_HINT }),
  }
}
