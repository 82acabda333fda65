import { AlipaySdk } from 'alipay-sdk'
import {
  byteOrder,
  keyedByText,
  normalizePublicKey,
  publicKeyObject,
  verifyContent,
  type SignType,
} from './keys.js'

/**
 * The fixed Alipay public key that signs merchant dynamic-code (商户动态码) notifications, whatever
 * the app's own 支付宝公钥 is (open-docs FAQ "会员卡商家动态码验签失败的原因？", reference §1.7).
 */
export const MDCODE_ALIPAY_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAk77oKO0IH0xekleDcIaAr5wHGJCQ9ICuiWPRYuPlVYsrslSx2NLo06VK34cnrXNFAMSJZPyyeak8iaqxdRfmn59UkHljIVLVQXi3CWnpmlGavluUrIcklM04b7UUiTbb3/T9N2ubwvIB1/sPH4DcYi83jM3M1YlD40fWe7He+6pMdcLGTAuF/8U5uTT6x26FUDGruvv7mPfeZDdqZrT/F1kpZgU+GULgvL9RZTuaJqwXWwTO9bWx4Hlp3EP6KrfFiV2lTUvoXD/zDn/wPX0/E5I336UVJPzgNg/u+qvpKRibBf4+APv0s93u2Zhe8q66VpJ/Nt4fLsGbRRz7UJb+zwIDAQAB'

/**
 * What a notification handler receives: the already-decoded form parameters (what a framework's
 * form parser gives), or the raw request body (string or bytes) when the charset may not be UTF-8.
 */
export type NotifyInput = Readonly<Record<string, string>> | string | Buffer

/** Why a notification was rejected; answer Alipay `fail` (it retries) and log the reason. */
export type NotifyRejectReason =
  /** No `sign` parameter. */
  | 'missing-sign'
  /** The signature does not verify (wrong key, tampered or re-encoded values). */
  | 'bad-signature'
  /** Signed correctly but not the expected message (wrong type, missing field, bad JSON). */
  | 'bad-message'

/** Outcome of a verify function: the typed message, or why it was rejected. */
export type NotifyVerification<T> =
  | { readonly ok: true; readonly message: T }
  | { readonly ok: false; readonly reason: NotifyRejectReason; readonly detail?: string }

/** A classic `notify_url` notification (trade, member-card open/delete, Koubei). */
export interface AlipayNotify {
  notifyId: string | undefined
  notifyTime: string | undefined
  notifyType: string | undefined
  appId: string | undefined
  /** ISV mode: the merchant app that was acted for. */
  authAppId: string | undefined
  /** Every parameter but `sign`, decoded. */
  params: Readonly<Record<string, string>>
}

/** `koubei_receive_coupon_notify`: the user claimed the coupon of a prize-send link. */
export interface CouponReceivedNotify extends AlipayNotify {
  notifyType: 'koubei_receive_coupon_notify'
  buyerId: string
  merchantUid: string | undefined
  /** The `outBizNo` kaguan put in the claim link. */
  isvOutBizId: string
  /** `<buyer_id>|<id>`. */
  businessOrder: string | undefined
  id: string | undefined
  eventCode: string | undefined
}

/** An application-gateway (应用网关) message of the message service (`msg_method`). */
export interface GatewayMessage {
  kind: 'message'
  msgMethod: string
  notifyId: string | undefined
  /** Milliseconds since the epoch, as sent (13 digits). */
  utcTimestamp: string | undefined
  appId: string | undefined
  version: string | undefined
  /** `biz_content` parsed from its JSON text. */
  bizContent: unknown
  params: Readonly<Record<string, string>>
}

/** An application-gateway message of the older `service` family (e.g. `alipay.service.check`). */
export interface GatewayServiceMessage {
  kind: 'service'
  service: string
  /** Raw `biz_content` (XML in this family). */
  bizContent: string | undefined
  params: Readonly<Record<string, string>>
}

/** biz_content of `alipay.user.opencard.result.notify`. */
export interface OpenCardResult {
  template_id: string
  biz_card_no: string
  external_card_no: string
  success: 'true' | 'false'
  user_id?: string
  open_id?: string
}

/** A merchant dynamic-code (mdcode) notification: Alipay asks for a code for `bizCardNo`. */
export interface MdcodeNotify {
  bizCardNo: string
  /** Every parameter but `sign` (incl. the template's `ext_params` keys). */
  params: Readonly<Record<string, string>>
}

/** Options of the verify functions. */
export interface NotifyVerifyOptions {
  /** Charset of a raw body when it has no `charset` parameter (default `utf-8`; mdcode: `gbk`). */
  charset?: string
}

/**
 * Verifies a classic async notification (`notify_url`: card open/delete, trades, Koubei) and
 * returns it parsed.
 *
 * Verification is the SDK's `checkNotifySignV2` (raw values, no second URL-decoding: reference §5
 * #1), which accepts both `rsaCheckV1` (`sign_type` excluded) and `rsaCheckV2` (included)
 * signatures (§5 #2). Because the SDK keeps empty values while Java/PHP signers drop them (§5 #16),
 * a failed check is retried without the empty values. Raw bodies in another charset (GBK) are
 * verified on their bytes (§5 #5).
 */
export function verifyNotify(
  input: NotifyInput,
  alipayPublicKey: string,
  options: NotifyVerifyOptions = {},
): NotifyVerification<AlipayNotify> {
  const checked = checkSignature(input, alipayPublicKey, options.charset ?? 'utf-8')
  if (!checked.ok) {
    return checked
  }
  return { ok: true, message: toNotify(checked.message) }
}

/**
 * Verifies a Koubei coupon-received notification (`notify_type=koubei_receive_coupon_notify`,
 * reference koubei §5.3; may be signed with `sign_type=RSA`). Answer `success` once handled.
 */
export function verifyCouponNotify(
  input: NotifyInput,
  alipayPublicKey: string,
  options: NotifyVerifyOptions = {},
): NotifyVerification<CouponReceivedNotify> {
  const checked = checkSignature(input, alipayPublicKey, options.charset ?? 'utf-8')
  if (!checked.ok) {
    return checked
  }
  const params = checked.message
  if (params.notify_type !== 'koubei_receive_coupon_notify') {
    return reject('bad-message', `notify_type is ${params.notify_type ?? 'missing'}`)
  }
  if (!params.buyer_id || !params.isv_out_biz_id) {
    return reject('bad-message', 'buyer_id and isv_out_biz_id are required')
  }
  return {
    ok: true,
    message: {
      ...toNotify(params),
      notifyType: 'koubei_receive_coupon_notify',
      buyerId: params.buyer_id,
      merchantUid: params.merchant_uid,
      isvOutBizId: params.isv_out_biz_id,
      businessOrder: params.business_order,
      id: params.id,
      eventCode: params.event_code,
    },
  }
}

/**
 * Verifies an application-gateway (应用网关) message and parses it: a message-service message
 * (`msg_method`, JSON `biz_content`, e.g. `alipay.user.opencard.result.notify`) or an older
 * `service` message. These are signed `rsaCheckV2`-style (`sign_type` and `charset` inside the
 * signed content); the V1 form is accepted too since which one applies is not documented per
 * message (reference §1.7 (b), (c)).
 */
export function verifyGatewayMessage(
  input: NotifyInput,
  alipayPublicKey: string,
  options: NotifyVerifyOptions = {},
): NotifyVerification<GatewayMessage | GatewayServiceMessage> {
  const checked = checkSignature(input, alipayPublicKey, options.charset ?? 'utf-8')
  if (!checked.ok) {
    return checked
  }
  const params = checked.message
  if (params.msg_method) {
    let bizContent: unknown = undefined
    if (params.biz_content !== undefined) {
      try {
        bizContent = JSON.parse(params.biz_content)
      } catch {
        return reject('bad-message', 'biz_content is not JSON')
      }
    }
    return {
      ok: true,
      message: {
        kind: 'message',
        msgMethod: params.msg_method,
        notifyId: params.notify_id,
        utcTimestamp: params.utc_timestamp,
        appId: params.app_id,
        version: params.version,
        bizContent,
        params,
      },
    }
  }
  if (params.service) {
    return {
      ok: true,
      message: { kind: 'service', service: params.service, bizContent: params.biz_content, params },
    }
  }
  return reject('bad-message', 'neither msg_method nor service is present')
}

/**
 * Reads the biz_content of an `alipay.user.opencard.result.notify` message, or undefined when
 * the message is another one or lacks a required field.
 */
export function openCardResultOf(message: GatewayMessage): OpenCardResult | undefined {
  if (message.msgMethod !== 'alipay.user.opencard.result.notify') {
    return undefined
  }
  const biz = message.bizContent
  if (typeof biz !== 'object' || biz === null) {
    return undefined
  }
  const record = biz as Record<string, unknown>
  for (const field of ['template_id', 'biz_card_no', 'external_card_no', 'success']) {
    if (typeof record[field] !== 'string') {
      return undefined
    }
  }
  return record as unknown as OpenCardResult
}

/**
 * Verifies a merchant dynamic-code (商户动态码) notification. Per the official FAQ these are
 * signed with a fixed key ({@link MDCODE_ALIPAY_PUBLIC_KEY}, the default), `rsaCheckV1`, RSA2,
 * in GBK: pass the raw body so the bytes are verified as sent. Against the emulator, pass the
 * emulator's key.
 */
export function verifyMdcodeNotify(
  input: NotifyInput,
  options: NotifyVerifyOptions & { alipayPublicKey?: string } = {},
): NotifyVerification<MdcodeNotify> {
  const key = options.alipayPublicKey ?? MDCODE_ALIPAY_PUBLIC_KEY
  const checked = checkSignature(input, key, options.charset ?? 'gbk')
  if (!checked.ok) {
    return checked
  }
  const params = checked.message
  // The FAQ names the field `BizCardNo`; accept the snake_case spelling other notifies use.
  const bizCardNo = params.BizCardNo ?? params.biz_card_no
  if (!bizCardNo) {
    return reject('bad-message', 'BizCardNo is missing')
  }
  return { ok: true, message: { bizCardNo, params } }
}

/**
 * Parses an `application/x-www-form-urlencoded` body. Percent-escapes are decoded to bytes and the
 * bytes decoded with the body's own `charset` parameter when it has one, else `fallbackCharset`
 * (URLSearchParams would assume UTF-8 and garble GBK). Repeated keys keep the first value.
 */
export function parseFormBody(
  body: string | Buffer,
  fallbackCharset = 'utf-8',
): Record<string, string> {
  const pairs = formPairs(body)
  const decoder = new TextDecoder(charsetOf(pairs, fallbackCharset))
  const out: Record<string, string> = {}
  for (const [key, value] of pairs) {
    if (!(key in out)) {
      out[key] = decoder.decode(value)
    }
  }
  return out
}

/**
 * Decodes the `apply_card_url` of `activateurl.apply`, which Alipay returns URL-encoded
 * (reference §3.4). Idempotent: an already-decoded URL is returned unchanged.
 */
export function decodeApplyCardUrl(url: string): string {
  return /^[a-z][a-z0-9+.-]*%3A/i.test(url) ? decodeURIComponent(url) : url
}

/**
 * Parses the `infos` of `activateform.query` (a JSON text of single-key objects,
 * `[{"OPEN_FORM_FIELD_MOBILE":"1380000"}, ...]`) into one record.
 */
export function parseActivateFormInfos(infos: string | undefined): Record<string, string> {
  if (!infos) {
    return {}
  }
  const parsed: unknown = JSON.parse(infos)
  const out: Record<string, string> = {}
  const items: unknown[] = Array.isArray(parsed) ? parsed : [parsed]
  for (const item of items) {
    if (typeof item !== 'object' || item === null) {
      continue
    }
    for (const [key, value] of Object.entries(item)) {
      if (value !== null && value !== undefined) {
        out[key] = String(value)
      }
    }
  }
  return out
}

// --- internals ---

type Checked = NotifyVerification<Record<string, string>>

function reject(
  reason: NotifyRejectReason,
  detail?: string,
): { ok: false; reason: NotifyRejectReason; detail?: string } {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail }
}

export function checkSignature(
  input: NotifyInput,
  publicKey: string,
  fallbackCharset: string,
): Checked {
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const pairs = formPairs(input)
    const charset = charsetOf(pairs, fallbackCharset)
    if (charset !== 'utf-8') {
      return checkBytes(pairs, charset, publicKey)
    }
    return checkParams(parseFormBody(input, 'utf-8'), publicKey)
  }
  return checkParams({ ...input }, publicKey)
}

/** UTF-8 parameters: the official SDK's check, then the Java-style "empty values dropped" one. */
function checkParams(params: Record<string, string>, publicKey: string): Checked {
  const { sign, ...rest } = params
  if (!sign) {
    return reject('missing-sign')
  }
  const sdk = notifySdk(publicKey)
  if (sdk.checkNotifySignV2(params)) {
    return { ok: true, message: rest }
  }
  const nonEmpty = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== ''))
  if (
    Object.keys(nonEmpty).length !== Object.keys(params).length &&
    sdk.checkNotifySignV2(nonEmpty)
  ) {
    return { ok: true, message: rest }
  }
  return reject('bad-signature')
}

/** Non-UTF-8 bodies: the SDK signs/verifies UTF-8 only, so rebuild the content from the raw bytes. */
function checkBytes(pairs: [string, Buffer][], charset: string, publicKey: string): Checked {
  const decoder = new TextDecoder(charset)
  const params: Record<string, string> = {}
  const bytes = new Map<string, Buffer>()
  for (const [key, value] of pairs) {
    if (bytes.has(key)) {
      continue
    }
    bytes.set(key, value)
    params[key] = decoder.decode(value)
  }
  const { sign, ...rest } = params
  if (!sign) {
    return reject('missing-sign')
  }
  const signType: SignType = params.sign_type === 'RSA' ? 'RSA' : 'RSA2'
  const variants: { exclude: string[]; dropEmpty: boolean }[] = [
    { exclude: ['sign', 'sign_type'], dropEmpty: true },
    { exclude: ['sign'], dropEmpty: true },
    { exclude: ['sign', 'sign_type'], dropEmpty: false },
    { exclude: ['sign'], dropEmpty: false },
  ]
  for (const variant of variants) {
    const keys = [...bytes.keys()]
      .filter((k) => !variant.exclude.includes(k))
      .filter((k) => !(variant.dropEmpty && bytes.get(k)?.length === 0))
      .sort(byteOrder)
    const parts: Buffer[] = []
    keys.forEach((k, i) => {
      if (i > 0) {
        parts.push(Buffer.from('&'))
      }
      parts.push(Buffer.from(`${k}=`), bytes.get(k) ?? Buffer.alloc(0))
    })
    if (verifyContent(Buffer.concat(parts), sign, publicKey, signType)) {
      return { ok: true, message: rest }
    }
  }
  return reject('bad-signature')
}

/** One verifier per key text (bounded): a notification costs a verify, not an SDK and a key parse. */
const notifySdk = keyedByText((publicKey: string) => {
  // The SDK wants an app id and a private key even to verify; neither is used by checkNotifySignV2.
  const sdk = new AlipaySdk({
    appId: 'notify-verifier',
    privateKey: 'unused',
    alipayPublicKey: normalizePublicKey(publicKey),
  })
  // Its rsaCheck hands this field to node:crypto's verify, which would parse the PEM text on every
  // notification (≈ 6× the verify itself); a KeyObject is taken in the same place.
  ;(sdk.config as unknown as { alipayPublicKey: unknown }).alipayPublicKey =
    publicKeyObject(publicKey)
  return sdk
})

function formPairs(body: string | Buffer): [string, Buffer][] {
  const fromBytes = typeof body !== 'string'
  const text = fromBytes ? body.toString('latin1') : body
  const pairs: [string, Buffer][] = []
  for (const part of text.split('&')) {
    if (part === '') {
      continue
    }
    const eq = part.indexOf('=')
    const rawKey = eq === -1 ? part : part.slice(0, eq)
    const rawValue = eq === -1 ? '' : part.slice(eq + 1)
    pairs.push([
      percentDecode(rawKey, fromBytes).toString('latin1'),
      percentDecode(rawValue, fromBytes),
    ])
  }
  return pairs
}

function percentDecode(text: string, fromBytes: boolean): Buffer {
  // A Buffer body was read as latin1 (one char per byte); a string body may hold unescaped
  // non-ASCII text, which can only be UTF-8.
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? ''
    if (ch === '+') {
      bytes.push(0x20)
    } else if (ch === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      const code = ch.charCodeAt(0)
      if (code < 0x80 || (fromBytes && code < 0x100)) {
        bytes.push(code)
      } else {
        bytes.push(...Buffer.from(ch, 'utf8'))
      }
    }
  }
  return Buffer.from(bytes)
}

function charsetOf(pairs: [string, Buffer][], fallback: string): string {
  const declared = pairs
    .find(([key]) => key === 'charset')?.[1]
    .toString('latin1')
    .trim()
    .toLowerCase()
  const charset = declared || fallback.toLowerCase()
  return charset === 'utf8' ? 'utf-8' : charset
}

function toNotify(params: Record<string, string>): AlipayNotify {
  return {
    notifyId: params.notify_id,
    notifyTime: params.notify_time,
    notifyType: params.notify_type,
    appId: params.app_id,
    authAppId: params.auth_app_id,
    params,
  }
}
