import {
  createPrivateKey,
  createPublicKey,
  createSign,
  createVerify,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto'
import { CrmSdkError, CrmSdkErrorCode } from './errors.js'

/** A parameter value as it may be handed to the signer. `null`, `undefined` and `''` are not signed. */
export type ParamValue = string | number | boolean | null | undefined

/** Parameters of a signed CRM → kaguan call. */
export type SignableParams = Readonly<Record<string, ParamValue>>

/** The parameter names that carry the signature; never part of the string to sign. */
export const SIGNATURE_PARAM_KEYS = ['sign', 'signature'] as const

/** A key as PEM text, bare base64 DER (PKCS#8 private / SPKI public, as Java prints them), or a KeyObject. */
export type KeyInput = string | KeyObject

/**
 * The string the CRM signs (the seed's `SignHelper.signStringParam`):
 *
 * ```text
 * every parameter except `sign`/`signature` and empty values (null, undefined, ''),
 * sorted by key in byte order (UTF-8 bytes, unsigned), joined as key=value with '&'
 * ```
 *
 * Values are neither URL-encoded nor trimmed. Numbers and booleans are written with `String()`.
 *
 * @example canonicalString({ point: '100', bizCardNo: 'CRM00000001', sign: 'x', level: '' })
 * // 'bizCardNo=CRM00000001&point=100'
 */
export function canonicalString(params: SignableParams): string {
  const entries: Array<[Buffer, string, string]> = []
  for (const [key, value] of Object.entries(params)) {
    if ((SIGNATURE_PARAM_KEYS as readonly string[]).includes(key)) {
      continue
    }
    if (value === null || value === undefined || value === '') {
      continue
    }
    if (typeof value === 'object' || typeof value === 'function' || typeof value === 'symbol') {
      // A nested object has no agreed string form in the Java/PHP signers: refuse instead of guessing.
      throw new CrmSdkError(CrmSdkErrorCode.InputInvalid, `parameter ${key} must be a string`, {
        field: key,
      })
    }
    entries.push([Buffer.from(key, 'utf8'), key, String(value)])
  }
  // Byte order, not localeCompare: 'Z' (0x5A) sorts before 'a' (0x61), as in Java's String order.
  entries.sort((a, b) => Buffer.compare(a[0], b[0]))
  return entries.map(([, key, value]) => `${key}=${value}`).join('&')
}

/**
 * Signs `params` with the CRM's RSA private key: SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes
 * of {@link canonicalString}, base64. Put the result in the `sign` parameter.
 */
export function signParams(params: SignableParams, privateKey: KeyInput): string {
  const signer = createSign('RSA-SHA256')
  signer.update(canonicalString(params), 'utf8')
  return signer.sign(toPrivateKey(privateKey), 'base64')
}

/**
 * Verifies the signature found in `sign` (or, when absent, `signature`) against the CRM's public
 * key. Returns false for a missing, malformed or wrong signature and for non-scalar values;
 * throws {@link CrmSdkError} only when the key itself is unusable (a configuration error).
 */
export function verifyParams(
  params: Readonly<Record<string, unknown>>,
  publicKey: KeyInput,
): boolean {
  const key = toPublicKey(publicKey)
  const signature = pickSignature(params)
  if (signature === undefined) {
    return false
  }
  const scalars: Record<string, ParamValue> = {}
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && typeof value === 'object') {
      return false
    }
    scalars[name] = value as ParamValue
  }
  const verifier = createVerify('RSA-SHA256')
  verifier.update(canonicalString(scalars), 'utf8')
  try {
    return verifier.verify(key, signature, 'base64')
  } catch {
    return false
  }
}

function pickSignature(params: Readonly<Record<string, unknown>>): string | undefined {
  for (const name of SIGNATURE_PARAM_KEYS) {
    const value = params[name]
    if (typeof value === 'string' && value !== '') {
      // Node's base64 decoder skips junk silently; insist on the alphabet so garbage is not "a signature".
      return /^[A-Za-z0-9+/=\s]+$/.test(value) ? value : undefined
    }
  }
  return undefined
}

/** Reads a private key: PEM (PKCS#8 or PKCS#1), bare base64 PKCS#8 DER, or a KeyObject. */
export function toPrivateKey(input: KeyInput): KeyObject {
  if (typeof input !== 'string') {
    return input
  }
  return memo('private', input, parsePrivate)
}

/**
 * Parsed keys by their text. Parsing a PEM costs several times the RSA verify it serves (≈ 130 µs
 * against ≈ 20 µs), and a service sees the same few keys on every call. Keyed by the text itself,
 * a changed key is simply another entry; the bound keeps a process that sees many keys small.
 */
const parsedKeys = new Map<string, KeyObject>()
const PARSED_KEYS_MAX = 64

function memo(kind: 'private' | 'public', text: string, parse: (text: string) => KeyObject) {
  const id = `${kind}:${text}`
  let key = parsedKeys.get(id)
  if (!key) {
    key = parse(text)
    if (parsedKeys.size >= PARSED_KEYS_MAX) {
      parsedKeys.clear()
    }
    parsedKeys.set(id, key)
  }
  return key
}

function parsePrivate(input: string): KeyObject {
  try {
    return input.includes('-----BEGIN')
      ? createPrivateKey(input)
      : createPrivateKey({ key: base64Der(input), format: 'der', type: 'pkcs8' })
  } catch (cause) {
    throw new CrmSdkError(
      CrmSdkErrorCode.KeyInvalid,
      'private key is not a PEM or base64 PKCS#8 RSA key',
      {},
      { cause },
    )
  }
}

/** Reads a public key: PEM (SPKI or PKCS#1), bare base64 SPKI DER, or a KeyObject. */
export function toPublicKey(input: KeyInput): KeyObject {
  if (typeof input !== 'string') {
    return input
  }
  return memo('public', input, parsePublic)
}

function parsePublic(input: string): KeyObject {
  try {
    return input.includes('-----BEGIN')
      ? createPublicKey(input)
      : createPublicKey({ key: base64Der(input), format: 'der', type: 'spki' })
  } catch (cause) {
    throw new CrmSdkError(
      CrmSdkErrorCode.KeyInvalid,
      'public key is not a PEM or base64 SPKI RSA key',
      {},
      { cause },
    )
  }
}

function base64Der(text: string): Buffer {
  const compact = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]+=*$/.test(compact)) {
    throw new Error('not base64')
  }
  return Buffer.from(compact, 'base64')
}

/** Strips a PEM's armour and line breaks: the bare base64 form Java's `KeySpec`s take. */
export function pemToBase64(pem: string): string {
  // Text outside the armour (like the test keys' warning lines) is not part of the key.
  const match = /-----BEGIN [A-Z ]+-----([\s\S]*?)-----END [A-Z ]+-----/.exec(pem)
  return (match?.[1] ?? pem).replace(/\s+/g, '')
}

/** An RSA key pair for a CRM, in both forms kaguan and Java CRMs use. */
export interface CrmKeyPair {
  /** PKCS#8 PEM: keep it in the CRM. */
  privateKey: string
  /** SPKI PEM: paste it into kaguan's business-system settings. */
  publicKey: string
  /** The private key as bare base64 PKCS#8 (Java `PKCS8EncodedKeySpec`). */
  privateKeyBase64: string
  /** The public key as bare base64 SPKI (Java `X509EncodedKeySpec`). */
  publicKeyBase64: string
}

/** Generates a 2048-bit RSA key pair for signing CRM → kaguan calls. */
export function generateKeyPair(modulusLength = 2048): CrmKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  })
  return {
    privateKey,
    publicKey,
    privateKeyBase64: pemToBase64(privateKey),
    publicKeyBase64: pemToBase64(publicKey),
  }
}

/** Options of {@link withReplayGuard}; injectable so tests and vectors are deterministic. */
export interface ReplayGuardOptions {
  /** Current time in milliseconds since the epoch (default `Date.now()`). */
  now?: number
  /** The nonce to use (default: 32 random hex characters). */
  nonce?: string
}

/**
 * Returns a copy of `params` with `timestamp` (milliseconds since the Unix epoch, as a decimal
 * string, e.g. `"1700000000000"`) and `nonce` (32 lowercase hex characters, unique per request)
 * added. Sign the result: both are signed like any other parameter, and kaguan uses them to refuse
 * a replayed or stale request.
 */
export function withReplayGuard<T extends SignableParams>(
  params: T,
  options: ReplayGuardOptions = {},
): T & { timestamp: string; nonce: string } {
  const now = options.now ?? Date.now()
  const nonce = options.nonce ?? randomBytes(16).toString('hex')
  return { ...params, timestamp: String(Math.trunc(now)), nonce }
}
