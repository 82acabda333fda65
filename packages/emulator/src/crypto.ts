import {
  createPrivateKey,
  createPublicKey,
  createSign,
  createVerify,
  generateKeyPairSync,
} from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import iconv from 'iconv-lite'

/** Alipay's `sign_type` values and the digest each one means (alipay-card-api.md §1.4 step 4). */
export const SignAlgorithm = { RSA2: 'RSA-SHA256', RSA: 'RSA-SHA1' } as const
export type SignType = keyof typeof SignAlgorithm

/** True when `value` is a `sign_type` the gateway understands. */
export function isSignType(value: string): value is SignType {
  return value === 'RSA2' || value === 'RSA'
}

/**
 * Reads a public key given as PEM (SPKI or PKCS#1) or as the bare base64 the open-platform console
 * shows. Merchants paste either, so the emulator accepts both.
 */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim()
  if (trimmed.startsWith('-----BEGIN')) {
    return createPublicKey(trimmed)
  }
  const der = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64')
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' })
  } catch {
    return createPublicKey({ key: der, format: 'der', type: 'pkcs1' })
  }
}

/** Reads a private key given as PEM (PKCS#8 or PKCS#1) or bare base64 PKCS#8. */
export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim()
  if (trimmed.startsWith('-----BEGIN')) {
    return createPrivateKey(trimmed)
  }
  const der = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64')
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
  } catch {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs1' })
  }
}

/** The public key (of a public or private key) as bare base64 SPKI, as Alipay's console shows "支付宝公钥". */
export function publicKeyBase64(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  return publicKey.export({ format: 'der', type: 'spki' }).toString('base64')
}

/** A fresh 2048-bit key pair as PEM (PKCS#8 private, SPKI public). */
export function generateRsaKeyPair(): { privateKey: string; publicKey: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  }
}

/**
 * The request sign string (§1.4): every parameter except `sign` (file parts never reach here), empty
 * values dropped unless `keepEmpty`, keys sorted by byte order, raw values joined as `k=v&…`.
 */
export function requestSignContent(
  params: Readonly<Record<string, string>>,
  options: { keepEmpty?: boolean; exclude?: readonly string[] } = {},
): string {
  const exclude = new Set(['sign', ...(options.exclude ?? [])])
  return Object.keys(params)
    .filter((key) => !exclude.has(key) && (options.keepEmpty === true || params[key] !== ''))
    .sort(compareBytes)
    .map((key) => `${key}=${params[key] ?? ''}`)
    .join('&')
}

/**
 * The notification sign string, `rsaCheckV1` style (§1.7 (a)): `sign` and `sign_type` removed. Both the
 * Node SDK (either variant) and Java's rsaCheckV1 accept a signature over this.
 */
export function notifySignContent(params: Readonly<Record<string, string>>): string {
  return requestSignContent(params, { exclude: ['sign_type'] })
}

/** Byte-order comparison: Java `Collections.sort` and PHP `ksort` on ASCII keys agree with it. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** The bytes of a text in the request's charset (`utf-8` unless the app sends `GBK`). */
export function textBytes(text: string, charset = 'utf-8'): Buffer {
  return charset.toLowerCase() === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, charset)
}

/** Whether the gateway can read this `charset` (utf-8, GBK, GB2312). */
export function isCharset(charset: string): boolean {
  return ['utf-8', 'gbk', 'gb2312'].includes(charset.toLowerCase())
}

/** SHA256withRSA (or SHA1withRSA) over the text's bytes in `charset` (UTF-8 by default), base64. */
export function signText(
  text: string,
  key: KeyObject,
  signType: SignType = 'RSA2',
  charset = 'utf-8',
): string {
  return createSign(SignAlgorithm[signType]).update(textBytes(text, charset)).sign(key, 'base64')
}

/** Verifies a base64 signature; a malformed signature is simply invalid, never an exception. */
export function verifyText(
  text: string,
  signature: string,
  key: KeyObject,
  signType: SignType = 'RSA2',
  charset = 'utf-8',
): boolean {
  try {
    return createVerify(SignAlgorithm[signType])
      .update(textBytes(text, charset))
      .verify(key, signature, 'base64')
  } catch {
    return false
  }
}
