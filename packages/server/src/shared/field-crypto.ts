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
  encrypt(plaintext: string, context: string): string
  decrypt(stored: string, context: string): string
  /** Deterministic keyed hash for lookup columns; equal inputs in one context give equal hashes. */
  lookupHash(value: string, context: string): string
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

export function createFieldCipher(masterKey: Buffer): FieldCipher {
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `kaguan:${purpose}`, 32))
  const encKey = derive('field-encryption:v1')
  const hashKey = derive('lookup-hash:v1')

  return {
    encrypt(plaintext, context) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', encKey, iv)
      cipher.setAAD(Buffer.from(context, 'utf8'))
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      const tag = cipher.getAuthTag()
      return ['v1', iv, tag, ciphertext]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.')
    },
    decrypt(stored, context) {
      const [version, iv, tag, ciphertext] = stored.split('.')
      if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) {
        throw new AppError(
          ErrorKind.Internal,
          'FIELD_CIPHER_FORMAT',
          `unreadable encrypted value in ${context}`,
        )
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', encKey, Buffer.from(iv, 'base64url'))
        decipher.setAAD(Buffer.from(context, 'utf8'))
        decipher.setAuthTag(Buffer.from(tag, 'base64url'))
        return Buffer.concat([
          decipher.update(Buffer.from(ciphertext, 'base64url')),
          decipher.final(),
        ]).toString('utf8')
      } catch (cause) {
        // Wrong master key, a value moved between columns, or tampering: never return garbage.
        throw new AppError(
          ErrorKind.Internal,
          'FIELD_CIPHER_AUTH',
          `encrypted value in ${context} does not decrypt with this master key`,
          {},
          { cause },
        )
      }
    },
    lookupHash(value, context) {
      return createHmac('sha256', hashKey)
        .update(`${context}\u0000${value.trim()}`)
        .digest('base64url')
    },
  }
}
