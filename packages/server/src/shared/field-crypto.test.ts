import { describe, expect, it } from 'vitest'
import { AppError } from './errors.js'
import { createFieldCipher, generateMasterKey, parseMasterKey } from './field-crypto.js'

const cipher = createFieldCipher(parseMasterKey(generateMasterKey()))

describe('field cipher', () => {
  it('round-trips UTF-8 and never stores the plaintext', () => {
    const stored = cipher.encrypt('张三 13800138000', 'members.name')
    expect(stored).toMatch(/^v2\./)
    expect(stored).not.toContain('13800138000')
    expect(cipher.decrypt(stored, 'members.name')).toBe('张三 13800138000')
  })

  it('gives a different ciphertext each time (fresh IV)', () => {
    expect(cipher.encrypt('x', 'c')).not.toBe(cipher.encrypt('x', 'c'))
  })

  it('refuses a value moved to another column, a tampered value, and another master key', () => {
    const stored = cipher.encrypt('13800138000', 'members.mobile')
    expect(() => cipher.decrypt(stored, 'members.name')).toThrow(AppError)
    const parts = stored.split('.')
    parts[3] = Buffer.from('tampered').toString('base64url')
    expect(() => cipher.decrypt(parts.join('.'), 'members.mobile')).toThrow(AppError)
    const other = createFieldCipher(parseMasterKey(generateMasterKey()))
    expect(() => other.decrypt(stored, 'members.mobile')).toThrow(/does not decrypt/)
  })

  it('makes equal lookup hashes for equal values in one context only', () => {
    expect(cipher.lookupHash('13800138000', 'mobile')).toBe(
      cipher.lookupHash(' 13800138000 ', 'mobile'),
    )
    expect(cipher.lookupHash('13800138000', 'mobile')).not.toBe(
      cipher.lookupHash('13800138000', 'certNo'),
    )
    const other = createFieldCipher(parseMasterKey(generateMasterKey()))
    expect(other.lookupHash('13800138000', 'mobile')).not.toBe(
      cipher.lookupHash('13800138000', 'mobile'),
    )
  })

  it('parses master keys as base64 or hex and rejects other lengths', () => {
    const key = generateMasterKey()
    expect(parseMasterKey(key).length).toBe(32)
    expect(
      parseMasterKey(Buffer.from(key, 'base64').toString('hex')).equals(Buffer.from(key, 'base64')),
    ).toBe(true)
    expect(() => parseMasterKey('abc')).toThrow(AppError)
  })

  it('decrypts with a previous key during a rotation, encrypts with the current one, and reads v1', () => {
    const oldKey = parseMasterKey(generateMasterKey())
    const newKey = parseMasterKey(generateMasterKey())
    const before = createFieldCipher(oldKey)
    const stored = before.encrypt('13800138000', 'members.mobile')
    // A v1 value (written before values named their key): iv.tag.ciphertext after the version.
    const v1 = ['v1', ...stored.split('.').slice(2)].join('.')
    const during = createFieldCipher(newKey, [oldKey])
    expect(during.keyId).not.toBe(before.keyId)
    expect(during.decrypt(stored, 'members.mobile')).toBe('13800138000')
    expect(during.decrypt(v1, 'members.mobile')).toBe('13800138000')
    expect(during.isCurrent(stored)).toBe(false)
    expect(during.isCurrent(v1)).toBe(false)
    const rewritten = during.encrypt('13800138000', 'members.mobile')
    expect(during.isCurrent(rewritten)).toBe(true)
    expect(during.lookupHashes('13800138000', 'm')).toEqual([
      during.lookupHash('13800138000', 'm'),
      before.lookupHash('13800138000', 'm'),
    ])
    const after = createFieldCipher(newKey)
    expect(after.decrypt(rewritten, 'members.mobile')).toBe('13800138000')
    expect(() => after.decrypt(stored, 'members.mobile')).toThrow(
      /which this process does not have/,
    )
  })
})
