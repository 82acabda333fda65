import { createHash, createPublicKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { appKeys } from '../test/helpers/keys.js'
import { AlipayErrorCode } from './errors.js'
import {
  buildSignContent,
  normalizePrivateKey,
  normalizePublicKey,
  publicKeyFingerprint,
  publicKeyOf,
  publicKeyToBase64,
  signContent,
  verifyContent,
} from './keys.js'

const bare = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')
const pkcs1PublicPem = createPublicKey(appKeys.publicKey)
  .export({ type: 'pkcs1', format: 'pem' })
  .toString()

describe('normalizePrivateKey', () => {
  it('gives the same PKCS#8 PEM for PKCS#8/PKCS#1, PEM/bare base64', () => {
    const forms = [appKeys.privateKey, bare(appKeys.privateKey), appKeys.privateKeyPkcs1Base64]
    const normalised = forms.map(normalizePrivateKey)
    for (const pem of normalised) {
      expect(pem).toBe(normalised[0])
    }
    expect(normalised[0]).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
  })

  it('rejects garbage with ALIPAY_KEY_INVALID', () => {
    expect(() => normalizePrivateKey('abc')).toThrow(
      expect.objectContaining({ code: AlipayErrorCode.KeyInvalid }),
    )
  })
})

describe('normalizePublicKey', () => {
  it('gives the same SPKI PEM for SPKI/PKCS#1, PEM/bare base64', () => {
    const forms = [appKeys.publicKey, appKeys.publicKeyBase64, pkcs1PublicPem, bare(pkcs1PublicPem)]
    for (const form of forms) {
      expect(normalizePublicKey(form)).toBe(appKeys.publicKey)
    }
  })

  it('derives the public key of a private key, and its bare base64', () => {
    expect(publicKeyOf(appKeys.privateKeyPkcs1Base64)).toBe(appKeys.publicKey)
    expect(publicKeyToBase64(appKeys.publicKey)).toBe(appKeys.publicKeyBase64)
  })
})

describe('publicKeyFingerprint', () => {
  it('is the sha256 hex of the SPKI DER, whatever the input form', () => {
    const expected = createHash('sha256')
      .update(Buffer.from(appKeys.publicKeyBase64, 'base64'))
      .digest('hex')
    expect(publicKeyFingerprint(appKeys.publicKey)).toBe(expected)
    expect(publicKeyFingerprint(pkcs1PublicPem)).toBe(expected)
    expect(publicKeyFingerprint(appKeys.publicKeyBase64)).toBe(expected)
  })
})

describe('signContent / verifyContent', () => {
  it('round-trips RSA2 and RSA, and fails on changed content or a malformed signature', () => {
    for (const type of ['RSA2', 'RSA'] as const) {
      const sig = signContent('a=1&b=中', appKeys.privateKeyPkcs1Base64, type)
      expect(verifyContent('a=1&b=中', sig, appKeys.publicKeyBase64, type)).toBe(true)
      expect(verifyContent('a=1&b=中文', sig, appKeys.publicKeyBase64, type)).toBe(false)
    }
    expect(verifyContent('a=1', 'not base64 at all!', appKeys.publicKey)).toBe(false)
  })
})

describe('buildSignContent', () => {
  it('sorts by byte order, drops sign and empty values, keeps raw values', () => {
    const content = buildSignContent({
      b: '2',
      a: 'x y%20',
      B: 'upper',
      sign: 's',
      empty: '',
      sign_type: 'RSA2',
    })
    expect(content).toBe('B=upper&a=x y%20&b=2&sign_type=RSA2')
  })

  it('can exclude sign_type (notify check V1) and keep empty values', () => {
    expect(
      buildSignContent(
        { a: '', sign: 's', sign_type: 'RSA2' },
        { exclude: ['sign', 'sign_type'], dropEmpty: false },
      ),
    ).toBe('a=')
  })
})
