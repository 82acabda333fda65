import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSign,
  createVerify,
  type KeyObject,
} from 'node:crypto'
import { AlipayError, AlipayErrorCode } from './errors.js'

/** Signature types of the v2 gateway: `RSA2` = SHA256withRSA (use this), `RSA` = SHA1withRSA. */
export type SignType = 'RSA2' | 'RSA'

const ALGORITHM: Readonly<Record<SignType, string>> = { RSA2: 'RSA-SHA256', RSA: 'RSA-SHA1' }

function keyError(what: string, cause: unknown): AlipayError {
  return new AlipayError({
    code: AlipayErrorCode.KeyInvalid,
    msg: `${what} is not an RSA key in PEM or base64 DER form`,
    retryable: false,
    cause,
  })
}

function derOf(key: string): Buffer {
  // Keys pasted from the Alipay console come as one base64 line, sometimes wrapped or with spaces.
  return Buffer.from(key.replace(/\s+/g, ''), 'base64')
}

/**
 * Something made from a key's text, kept by that text: parsing a PEM costs more than the RSA
 * operation it serves (a verify with a PEM string ≈ 6× one with a KeyObject), and the same few keys
 * come back on every call. Keyed by the text itself, a changed key is simply another entry; the
 * bound keeps a process that sees many keys from growing.
 */
export function keyedByText<T>(make: (key: string) => T, max = 64): (key: string) => T {
  const made = new Map<string, T>()
  return (key) => {
    let value = made.get(key)
    if (value === undefined) {
      value = make(key)
      if (made.size >= max) {
        made.clear()
      }
      made.set(key, value)
    }
    return value
  }
}

const parsedPrivateKey = keyedByText(parsePrivateKey)
const parsedPublicKey = keyedByText(parsePublicKey)

/** A private key as a KeyObject (parsed once per key text): for signing many times. */
export function privateKeyObject(key: string): KeyObject {
  return parsedPrivateKey(key)
}

/** A public key as a KeyObject (parsed once per key text): for verifying many times. */
export function publicKeyObject(key: string): KeyObject {
  return parsedPublicKey(key)
}

function parsePrivateKey(key: string): KeyObject {
  const text = key.trim()
  try {
    if (text.startsWith('-----BEGIN')) {
      return createPrivateKey(text)
    }
    const der = derOf(text)
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    } catch {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs1' })
    }
  } catch (err) {
    throw keyError('private key', err)
  }
}

function parsePublicKey(key: string): KeyObject {
  const text = key.trim()
  try {
    if (text.startsWith('-----BEGIN')) {
      return createPublicKey(text)
    }
    const der = derOf(text)
    try {
      return createPublicKey({ key: der, format: 'der', type: 'spki' })
    } catch {
      return createPublicKey({ key: der, format: 'der', type: 'pkcs1' })
    }
  } catch (err) {
    throw keyError('public key', err)
  }
}

/**
 * Normalises an RSA private key to a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
 *
 * Accepts PKCS#8 or PKCS#1 (`RSA PRIVATE KEY`), as PEM or as the bare base64 the Alipay key tool
 * (支付宝开放平台密钥工具) shows. The SDK defaults to PKCS#1 while the key tool emits PKCS#8
 * (reference §5 #7); normalising once lets the client always pass `keyType: 'PKCS8'`.
 * @throws AlipayError `ALIPAY_KEY_INVALID`
 */
export function normalizePrivateKey(key: string): string {
  return privateKeyObject(key).export({ type: 'pkcs8', format: 'pem' }).toString()
}

/**
 * Normalises an RSA public key to an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
 * Accepts SPKI or PKCS#1 (`RSA PUBLIC KEY`), PEM or bare base64 (as the Alipay console shows
 * 支付宝公钥).
 * @throws AlipayError `ALIPAY_KEY_INVALID`
 */
export function normalizePublicKey(key: string): string {
  return publicKeyObject(key).export({ type: 'spki', format: 'pem' }).toString()
}

/** The bare base64 SPKI DER of a public key: the single-line form the Alipay console expects. */
export function publicKeyToBase64(key: string): string {
  return publicKeyObject(key).export({ type: 'spki', format: 'der' }).toString('base64')
}

/**
 * The public key (SPKI PEM) that belongs to a private key: what to upload to Alipay as 应用公钥,
 * and what to register with the emulator.
 */
export function publicKeyOf(privateKey: string): string {
  return createPublicKey(privateKeyObject(privateKey))
    .export({ type: 'spki', format: 'pem' })
    .toString()
}

/**
 * Fingerprint of a public key for display: lower-case hex SHA-256 of its SPKI DER. The same key
 * in PEM, base64 or PKCS#1 form gives the same fingerprint.
 */
export function publicKeyFingerprint(key: string): string {
  const der = publicKeyObject(key).export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('hex')
}

/**
 * Signs content with SHA256withRSA (`RSA2`, default) or SHA1withRSA (`RSA`); returns base64.
 * Strings are signed as their UTF-8 bytes; pass a Buffer for another charset.
 */
export function signContent(
  content: string | Buffer,
  privateKey: string,
  signType: SignType = 'RSA2',
): string {
  return createSign(ALGORITHM[signType])
    .update(content)
    .sign(privateKeyObject(privateKey), 'base64')
}

/**
 * Verifies a base64 RSA signature over content (UTF-8 bytes for strings). Returns false, never
 * throws, for a malformed signature.
 * @throws AlipayError `ALIPAY_KEY_INVALID` when the public key itself is unusable
 */
export function verifyContent(
  content: string | Buffer,
  signature: string,
  publicKey: string,
  signType: SignType = 'RSA2',
): boolean {
  const key = publicKeyObject(publicKey)
  try {
    return createVerify(ALGORITHM[signType]).update(content).verify(key, signature, 'base64')
  } catch {
    return false
  }
}

/** Options of {@link buildSignContent}. */
export interface SignContentOptions {
  /** Keys left out; default `['sign']`. Notification check V1 also leaves out `sign_type`. */
  exclude?: readonly string[]
  /** Leave out empty values, as the Java/PHP SDKs do (default true). */
  dropEmpty?: boolean
}

/**
 * The gateway's canonical string to sign (reference §1.4): parameters sorted by key in byte
 * order, joined as `key=value` with `&`, raw (not URL-encoded) values.
 *
 * ```
 * app_id=2021...&biz_content={"a":"b"}&charset=utf-8&method=...&sign_type=RSA2&timestamp=...&version=1.0
 * ```
 */
export function buildSignContent(
  params: Readonly<Record<string, string | undefined>>,
  options: SignContentOptions = {},
): string {
  const exclude = new Set(options.exclude ?? ['sign'])
  const dropEmpty = options.dropEmpty ?? true
  return Object.keys(params)
    .filter((key) => !exclude.has(key))
    .filter((key) => params[key] !== undefined && !(dropEmpty && params[key] === ''))
    .sort(byteOrder)
    .map((key) => `${key}=${params[key] ?? ''}`)
    .join('&')
}

/** Byte-order comparison (Java `String.compareTo`, PHP `ksort`), not locale order. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
