import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { AppError, ErrorKind } from './errors.js'

/**
 * Field-level encryption of personal data (name, mobile, certificate number) and stored private keys.
 *
 * AES-256-GCM under a key derived from the master key; each value gets a fresh 96-bit IV. The stored
 * text is `v1.<iv>.<tag>.<ciphertext>` (base64url parts), so the format can change later without
 * guessing. `context` (e.g. `members.mobile`) is bound as additional authenticated data: a value
 * copied into another column does not decrypt.
 *
 * Lookups use a keyed hash (HMAC-SHA256 under a second derived key) of the normalised value, so a
 * member can be found by mobile without the column being readable.
 */
export interface FieldCipher {
  /** Encrypts under the current master key; the stored text names that key (`v2.<key id>.…`). */
  encrypt(plaintext: string, context: string): string
  /** Decrypts a value stored under the current key or a previous one (during a rotation). */
  decrypt(stored: string, context: string): string
  /** Deterministic keyed hash for lookup columns (current key); equal inputs in one context give equal hashes. */
  lookupHash(value: string, context: string): string
  /**
   * The value's lookup hashes under every key this process knows, the current key's first: during a
   * master-key rotation a row not re-encrypted yet still carries its hash under the previous key.
   */
  lookupHashes(value: string, context: string): string[]
  /** The current master key's id: a short, one-way name (not the key), shown by `kaguan keys rotate-master`. */
  readonly keyId: string
  /** Whether a stored value is already encrypted under the current master key (false for `v1`). */
  isCurrent(stored: string): boolean
}

const MASTER_KEY_BYTES = 32

/** A new random master key, base64 (what `kaguan keys master` prints). */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64')
}

/** Parses a master key given as base64 (44 chars) or hex (64 chars); throws naming the problem. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim()
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64')
  if (
    key.length !== MASTER_KEY_BYTES ||
    (!/^[0-9a-fA-F]{64}$/.test(trimmed) && key.toString('base64') !== trimmed)
  ) {
    throw new AppError(
      ErrorKind.Invalid,
      'MASTER_KEY_INVALID',
      'the master key must be 32 random bytes, base64 or hex (create one with `kaguan keys master`)',
    )
  }
  return key
}

/** A master key's id: 8 base64url characters of a one-way function of it (it cannot reveal the key). */
export function masterKeyId(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('kaguan:key-id').digest('base64url').slice(0, 8)
}

interface KeyMaterial {
  id: string
  encKey: Buffer
  hashKey: Buffer
}

function keyMaterial(masterKey: Buffer): KeyMaterial {
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `kaguan:${purpose}`, 32))
  return {
    id: masterKeyId(masterKey),
    encKey: derive('field-encryption:v1'),
    hashKey: derive('lookup-hash:v1'),
  }
}

function decryptWith(
  key: KeyMaterial,
  iv: string,
  tag: string,
  ciphertext: string,
  context: string,
): string {
  const decipher = createDecipheriv('aes-256-gcm', key.encKey, Buffer.from(iv, 'base64url'))
  decipher.setAAD(Buffer.from(context, 'utf8'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([
    decipher.update(Buffer.from(ciphertext, 'base64url')),
    decipher.final(),
  ]).toString('utf8')
}

/**
 * `masterKey` encrypts; it and the `previous` keys decrypt (a master-key rotation in progress: see
 * `kaguan keys rotate-master`). Stored text is `v2.<key id>.<iv>.<tag>.<ciphertext>`; the older
 * `v1.<iv>.<tag>.<ciphertext>` (no key id, written before rotation existed) is tried with each key.
 */
export function createFieldCipher(
  masterKey: Buffer,
  previous: readonly Buffer[] = [],
): FieldCipher {
  const current = keyMaterial(masterKey)
  const all = [current, ...previous.map(keyMaterial).filter((k) => k.id !== current.id)]
  const byId = new Map(all.map((k) => [k.id, k]))
  const hashWith = (key: KeyMaterial, value: string, context: string) =>
    createHmac('sha256', key.hashKey).update(`${context}\u0000${value.trim()}`).digest('base64url')

  return {
    keyId: current.id,
    encrypt(plaintext, context) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', current.encKey, iv)
      cipher.setAAD(Buffer.from(context, 'utf8'))
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      const tag = cipher.getAuthTag()
      return ['v2', current.id, iv, tag, ciphertext]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.')
    },
    decrypt(stored, context) {
      const parts = stored.split('.')
      const [version] = parts
      const [keyId, iv, tag, ciphertext] =
        version === 'v2' ? parts.slice(1) : [undefined, ...parts.slice(1)]
      if (
        (version !== 'v1' && version !== 'v2') ||
        (version === 'v2' && keyId === undefined) ||
        iv === undefined ||
        tag === undefined ||
        ciphertext === undefined
      ) {
        throw new AppError(
          ErrorKind.Internal,
          'FIELD_CIPHER_FORMAT',
          `unreadable encrypted value in ${context}`,
        )
      }
      const candidates = keyId === undefined ? all : byId.has(keyId) ? [byId.get(keyId)!] : []
      let cause: unknown = new Error(`master key ${keyId} is not configured`)
      for (const key of candidates) {
        try {
          return decryptWith(key, iv, tag, ciphertext, context)
        } catch (error) {
          cause = error
        }
      }
      // Wrong master key, a value moved between columns, or tampering: never return garbage.
      throw new AppError(
        ErrorKind.Internal,
        'FIELD_CIPHER_AUTH',
        keyId !== undefined && !byId.has(keyId)
          ? `encrypted value in ${context} does not decrypt with this master key: it is under master key ${keyId}, which this process does not have (a master-key rotation? see docs/operations.md)`
          : `encrypted value in ${context} does not decrypt with this master key`,
        {},
        { cause },
      )
    },
    lookupHash(value, context) {
      return hashWith(current, value, context)
    },
    lookupHashes(value, context) {
      return all.map((k) => hashWith(k, value, context))
    },
    isCurrent(stored) {
      return stored.startsWith(`v2.${current.id}.`)
    },
  }
}
