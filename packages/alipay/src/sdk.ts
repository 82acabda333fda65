import { AlipayRequestError, AlipaySdk } from 'alipay-sdk'
import iconv from 'iconv-lite'
import { certPublicKeyPem, certSn, chainsToRoot, parseCertificate } from './certs.js'
import { privateKeyObject, publicKeyObject, signContent, verifyContent } from './keys.js'
import { extractSignedNode } from './response-sign.js'

/** The method that fetches an Alipay public certificate by its SN (支付宝公钥证书下载). */
export const ALIPAY_CERT_DOWNLOAD_METHOD = 'alipay.open.app.alipaycert.download'
const DOWNLOAD_RESPONSE_KEY = 'alipay_open_app_alipaycert_download_response'

/**
 * The Alipay certificates a cert-mode client trusts, by SN: the configured one and any downloaded
 * since (each checked to chain to the root). Shared by the client's SDK instances.
 */
export interface AlipayCertKeyring {
  rootCert: string
  /** SN → SPKI PEM public key. */
  keys: Map<string, string>
  /** The SN of the newest Alipay certificate known. */
  currentSn: string
}

/** A response signed with an Alipay certificate the client does not know yet (rotation). */
export class UnknownAlipayCert extends Error {
  override name = 'UnknownAlipayCert'
  readonly sn: string
  readonly raw: string
  readonly traceId: string | undefined
  constructor(sn: string, raw: string, traceId: string | undefined) {
    super(`response signed with unknown Alipay certificate ${sn}`)
    this.sn = sn
    this.raw = raw
    this.traceId = traceId
  }
}

/** A downloaded Alipay certificate that does not chain to the root or does not carry the SN asked for. */
export class UntrustedAlipayCert extends Error {
  override name = 'UntrustedAlipayCert'
}

/** `"alipay_cert_sn":"…"` beside the response node (cert mode), if any. */
export function responseCertSn(raw: string): string | undefined {
  const tail = raw.lastIndexOf('"alipay_cert_sn"')
  if (tail < 0) {
    return undefined
  }
  return /^"alipay_cert_sn"\s*:\s*"([^"]*)"/.exec(raw.slice(tail))?.[1] || undefined
}

/**
 * Checks a downloaded Alipay certificate (base64 of the PEM, as `alipay_cert_content` holds it): it
 * must chain to the root, be valid now and carry the SN asked for. Returns the PEM and its public key.
 */
export function trustDownloadedCert(
  content: string,
  expectedSn: string,
  rootCert: string,
): { pem: string; publicKey: string } {
  const pem = content.includes('-----BEGIN')
    ? content
    : Buffer.from(content, 'base64').toString('utf8')
  let cert
  try {
    cert = parseCertificate(pem, 'alipay_cert_content')
  } catch (err) {
    throw new UntrustedAlipayCert(`downloaded Alipay certificate ${expectedSn} is unreadable`, {
      cause: err,
    })
  }
  if (certSn(cert) !== expectedSn) {
    throw new UntrustedAlipayCert(`downloaded Alipay certificate is not ${expectedSn}`)
  }
  if (!chainsToRoot(pem, rootCert)) {
    throw new UntrustedAlipayCert(
      `downloaded Alipay certificate ${expectedSn} does not chain to the configured root (or is not valid now)`,
    )
  }
  return { pem, publicKey: certPublicKeyPem(cert) }
}

/** Java URLEncoder-style percent-encoding of a value's bytes in the given charset. */
function formEncode(value: string, charset: string): string {
  const bytes = iconv.encode(value, charset)
  let out = ''
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte)
    if (/[A-Za-z0-9\-_.*]/.test(ch)) {
      out += ch
    } else if (byte === 0x20) {
      out += '+'
    } else {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
    }
  }
  return out
}

/** `yyyy-MM-dd HH:mm:ss` in China time, as the gateway reads `timestamp`. */
function gatewayTimestamp(now = new Date()): string {
  const cst = new Date(now.getTime() + 8 * 3600_000)
  return cst.toISOString().slice(0, 19).replace('T', ' ')
}

/** Parameters the SDK sends in the URL; everything else goes in the body. */
const URL_PARAMS = new Set([
  'app_id',
  'method',
  'format',
  'charset',
  'sign_type',
  'sign',
  'timestamp',
  'version',
  'notify_url',
  'return_url',
  'auth_token',
  'app_auth_token',
  'app_cert_sn',
  'alipay_root_cert_sn',
])

/** Thrown from inside `exec()` when a response fails verification; the client maps it to AlipayError. */
export class ResponseSignatureMismatch extends Error {
  override name = 'ResponseSignatureMismatch'
  readonly raw: string
  readonly traceId: string | undefined
  constructor(reason: string, raw: string, traceId: string | undefined) {
    super(reason)
    this.raw = raw
    this.traceId = traceId
  }
}

/**
 * The official SDK with a stricter, sturdier response check. `exec(..., { validateSign: true })`
 * calls `checkResponseSign` with the raw body; we keep the SDK's own check as the first attempt
 * and add what it lacks:
 * - an `error_response` without `sign` makes the SDK throw a raw TypeError (reference §2.3); Java
 *   accepts unsigned *failures* (it verifies when the call succeeded or a sign is present), and so
 *   do we: a forged failure can only make us fail, never succeed;
 * - an unsigned *success* is rejected (the SDK would crash or, with no public key, skip the check);
 * - the signed node is found by brace matching (the SDK's `getSignStr` miscounts on short
 *   signatures), for `error_response` too, and retried with `\/` unescaped as Java and PHP do.
 */
export class VerifyingAlipaySdk extends AlipaySdk {
  readonly #alipayPublicKey: string
  readonly #keyring: AlipayCertKeyring | undefined
  /** `utf-8` (the SDK's own transport) or another charset such as `GBK` (ours, see {@link exec}). */
  readonly #charset: string
  readonly #privateKeyPem: string

  constructor(
    config: ConstructorParameters<typeof AlipaySdk>[0] & {
      alipayPublicKey: string
      keyring?: AlipayCertKeyring | undefined
      wireCharset?: string | undefined
    },
  ) {
    const { keyring, wireCharset: charset, ...sdkConfig } = config
    super(sdkConfig)
    this.#alipayPublicKey = config.alipayPublicKey
    this.#keyring = keyring
    this.#charset = charset ?? 'utf-8'
    this.#privateKeyPem = this.config.privateKey
    // The SDK keeps the PEM text and hands it to node:crypto on every call, which parses it again
    // each time (≈ 3× the cost of the signature). node:crypto takes a KeyObject in the same places
    // (its sign() and verify()), and the SDK reads these two fields nowhere else after this.
    const keys = this.config as unknown as { privateKey: unknown; alipayPublicKey: unknown }
    keys.privateKey = privateKeyObject(this.config.privateKey)
    if (this.config.alipayPublicKey) {
      keys.alipayPublicKey = publicKeyObject(this.config.alipayPublicKey)
    }
  }

  /**
   * The SDK's v2 `exec` signs and sends UTF-8 whatever `charset` says (its `sign()` hashes the UTF-8
   * string and urllib encodes the form in UTF-8). For a GBK app the gateway checks the signature over
   * the GBK bytes and decodes the form as GBK, so non-ASCII text fails `isv.invalid-signature`. For
   * those apps (no file parts) this sends the request itself: the same parameters and URL/body split
   * as the SDK, signed over the charset's bytes, percent-encoded in that charset; the answer is read
   * in that charset and verified over its bytes.
   */
  override async exec(
    method: string,
    params: Parameters<AlipaySdk['exec']>[1] = {},
    options: Parameters<AlipaySdk['exec']>[2] = {},
  ): ReturnType<AlipaySdk['exec']> {
    if (this.#charset.toLowerCase() === 'utf-8' || options.formData) {
      return super.exec(method, params, options)
    }
    const charset = this.#charset
    const config = this.config
    const signed: Record<string, string> = {
      method,
      app_id: config.appId,
      charset,
      version: config.version ?? '1.0',
      sign_type: config.signType ?? 'RSA2',
      timestamp: gatewayTimestamp(),
      format: 'JSON',
    }
    for (const [key, value] of Object.entries(params as Record<string, unknown>)) {
      if (value === undefined || value === null) {
        continue
      }
      signed[key] = typeof value === 'string' ? value : JSON.stringify(value)
    }
    if (config.appCertSn && config.alipayRootCertSn) {
      signed.app_cert_sn = config.appCertSn
      signed.alipay_root_cert_sn = config.alipayRootCertSn
    }
    const content = Object.keys(signed)
      .sort()
      .map((key) => `${key}=${signed[key]}`)
      .join('&')
    signed.sign = signContent(
      iconv.encode(content, charset),
      this.#privateKeyPem,
      config.signType === 'RSA' ? 'RSA' : 'RSA2',
    )
    const url = new URL(config.gateway ?? '')
    const query: string[] = []
    const body: string[] = []
    for (const [key, value] of Object.entries(signed)) {
      ;(URL_PARAMS.has(key) ? query : body).push(`${key}=${formEncode(value, charset)}`)
    }
    url.search = (url.search ? `${url.search.slice(1)}&` : '') + query.join('&')
    let response: Response
    let raw: string
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': `application/x-www-form-urlencoded;charset=${charset}`,
          accept: 'application/json',
          'alipay-request-id': options.traceId ?? '',
        },
        body: body.join('&'),
        signal: AbortSignal.timeout(config.timeout ?? 5000),
      })
      raw = iconv.decode(Buffer.from(await response.arrayBuffer()), charset)
    } catch (err) {
      throw new AlipayRequestError(
        `HttpClient Request error: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err as Error },
      )
    }
    const traceId = response.headers.get('trace_id') ?? undefined
    if (response.status !== 200) {
      throw new AlipayRequestError(`HTTP 请求错误, status: ${response.status}`, {
        ...(traceId ? { traceId } : {}),
        responseDataRaw: raw,
      })
    }
    let parsed: Record<string, unknown>
    try {
      parsed = JSON.parse(raw) as Record<string, unknown>
    } catch (err) {
      throw new AlipayRequestError('Response 格式错误', {
        ...(traceId ? { traceId } : {}),
        responseDataRaw: raw,
        cause: err as Error,
      })
    }
    const responseKey = `${method.replaceAll('.', '_')}_response`
    const data = (parsed[responseKey] ?? parsed.error_response) as
      Record<string, unknown> | undefined
    if (!data) {
      throw new AlipayRequestError(`Response 格式错误，返回值 ${responseKey} 找不到`, {
        ...(traceId ? { traceId } : {}),
        responseDataRaw: raw,
      })
    }
    if (options.validateSign) {
      this.checkResponseSign(raw, responseKey, parsed.sign as string | undefined, traceId)
    }
    return (traceId ? { ...data, traceId } : data) as Awaited<ReturnType<AlipaySdk['exec']>>
  }

  override checkResponseSign(
    responseDataRaw: string,
    responseKey: string,
    serverSign: string | undefined,
    traceId: string | undefined,
  ): void {
    const nodeKey = extractSignedNode(responseDataRaw, responseKey) ? responseKey : 'error_response'
    const node = extractSignedNode(responseDataRaw, nodeKey)
    if (typeof serverSign !== 'string' || serverSign === '') {
      if (node !== undefined && !isSuccess(node)) {
        return
      }
      throw new ResponseSignatureMismatch('response has no sign', responseDataRaw, traceId)
    }
    let publicKey = this.#alipayPublicKey
    let sdkCheck = this.#charset.toLowerCase() === 'utf-8'
    const sn = this.#keyring ? responseCertSn(responseDataRaw) : undefined
    if (this.#keyring && sn !== undefined) {
      // Cert mode: the answer names the Alipay certificate that signed it: the configured one, one
      // kept from before, or a rotated one. The download answer carries the new certificate itself,
      // trusted once it chains to the root.
      let known = this.#keyring.keys.get(sn)
      if (known === undefined && responseKey === DOWNLOAD_RESPONSE_KEY && node !== undefined) {
        const content = contentOf(node)
        if (content !== undefined) {
          known = trustDownloadedCert(content, sn, this.#keyring.rootCert).publicKey
          this.#keyring.keys.set(sn, known)
        }
      }
      if (known === undefined) {
        throw new UnknownAlipayCert(sn, responseDataRaw, traceId)
      }
      sdkCheck = sdkCheck && known === this.#alipayPublicKey
      publicKey = known
    }
    if (sdkCheck) {
      try {
        super.checkResponseSign(responseDataRaw, responseKey, serverSign, traceId ?? '')
        return
      } catch {
        // fall through to our own extraction
      }
    }
    if (node !== undefined) {
      const bytes = (text: string) => iconv.encode(text, this.#charset)
      if (verifyContent(bytes(node), serverSign, publicKey)) {
        return
      }
      if (
        node.includes('\\/') &&
        verifyContent(bytes(node.replaceAll('\\/', '/')), serverSign, publicKey)
      ) {
        return
      }
    }
    throw new ResponseSignatureMismatch('response sign does not verify', responseDataRaw, traceId)
  }
}

function contentOf(node: string): string | undefined {
  try {
    const parsed = JSON.parse(node) as { alipay_cert_content?: unknown }
    return typeof parsed.alipay_cert_content === 'string' ? parsed.alipay_cert_content : undefined
  } catch {
    return undefined
  }
}

function isSuccess(node: string): boolean {
  try {
    const parsed = JSON.parse(node) as { code?: unknown }
    return parsed.code === '10000'
  } catch {
    return false
  }
}
