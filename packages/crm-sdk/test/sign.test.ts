import { describe, expect, it } from 'vitest'
import {
  canonicalString,
  CrmSdkError,
  generateKeyPair,
  pemToBase64,
  signParams,
  verifyParams,
  withReplayGuard,
} from '../src/index.js'
import { testKeys } from './fixtures.js'

const params = {
  templateId: '20200227000000002181302000300947',
  bizCardNo: 'CRM00000001',
  point: '100',
  changeReason: '消费赠送',
}

describe('canonicalString', () => {
  it('sorts keys by bytes, so uppercase and _ come before lowercase (unlike locale order)', () => {
    const input = { alpha: '1', aB: '2', a1: '3', Zeta: '4', _x: '5', Beta: '6' }
    expect(canonicalString(input)).toBe('Beta=6&Zeta=4&_x=5&a1=3&aB=2&alpha=1')
    // The locale order would differ: this is what the byte-order rule protects against.
    const localeOrder = Object.keys(input).sort((a, b) => a.localeCompare(b))
    expect(localeOrder.join(',')).not.toBe('Beta,Zeta,_x,a1,aB,alpha')
  })

  it('leaves out sign, signature and empty values but keeps "0" and spaces', () => {
    expect(
      canonicalString({
        b: '0',
        a: ' ',
        sign: 'x',
        signature: 'y',
        empty: '',
        nothing: null,
        missing: undefined,
      }),
    ).toBe('a= &b=0')
  })

  it('writes values raw (no URL encoding) and numbers with String()', () => {
    expect(canonicalString({ reason: 'a&b=c 积分', point: 100 })).toBe(
      'point=100&reason=a&b=c 积分',
    )
  })

  it('refuses nested objects instead of guessing a string form', () => {
    expect(() => canonicalString({ a: { b: 1 } as unknown as string })).toThrow(CrmSdkError)
  })
})

describe('signParams / verifyParams', () => {
  const sign = signParams(params, testKeys.privateKey)

  it('round-trips with the matching public key, via sign or signature', () => {
    expect(verifyParams({ ...params, sign }, testKeys.publicKey)).toBe(true)
    expect(verifyParams({ ...params, signature: sign }, testKeys.publicKey)).toBe(true)
  })

  it('is deterministic (PKCS#1 v1.5)', () => {
    expect(signParams(params, testKeys.privateKey)).toBe(sign)
  })

  it('fails on a tampered value', () => {
    expect(verifyParams({ ...params, point: '1000', sign }, testKeys.publicKey)).toBe(false)
  })

  it('fails on a removed parameter', () => {
    const { changeReason: _removed, ...rest } = params
    expect(verifyParams({ ...rest, sign }, testKeys.publicKey)).toBe(false)
  })

  it('fails on an added parameter', () => {
    expect(verifyParams({ ...params, level: 'VIP9', sign }, testKeys.publicKey)).toBe(false)
  })

  it('fails with another key pair', () => {
    const other = generateKeyPair()
    expect(verifyParams({ ...params, sign }, other.publicKey)).toBe(false)
    const forged = signParams(params, other.privateKey)
    expect(verifyParams({ ...params, sign: forged }, testKeys.publicKey)).toBe(false)
  })

  it('ignores empty values on both sides', () => {
    const signed = signParams({ ...params, level: '' }, testKeys.privateKey)
    expect(signed).toBe(sign)
    expect(verifyParams({ ...params, balance: '', sign }, testKeys.publicKey)).toBe(true)
  })

  it('returns false for a missing or garbage signature, or a nested value', () => {
    expect(verifyParams(params, testKeys.publicKey)).toBe(false)
    expect(verifyParams({ ...params, sign: 'not base64 ***' }, testKeys.publicKey)).toBe(false)
    expect(verifyParams({ ...params, sign: 'AAAA' }, testKeys.publicKey)).toBe(false)
    expect(verifyParams({ ...params, extra: { a: 1 }, sign }, testKeys.publicKey)).toBe(false)
  })

  it('accepts keys as bare base64 (the form Java prints)', () => {
    const privateB64 = pemToBase64(testKeys.privateKey)
    const publicB64 = pemToBase64(testKeys.publicKey)
    expect(privateB64).toMatch(/^MII[A-Za-z0-9+/]+=*$/)
    expect(signParams(params, privateB64)).toBe(sign)
    expect(verifyParams({ ...params, sign }, publicB64)).toBe(true)
  })

  it('throws a typed error for an unusable key', () => {
    const error = (() => {
      try {
        verifyParams({ ...params, sign }, 'not-a-key')
      } catch (err) {
        return err
      }
    })()
    expect(error).toBeInstanceOf(CrmSdkError)
    expect((error as CrmSdkError).code).toBe('CRM_SDK_KEY_INVALID')
  })
})

describe('generateKeyPair', () => {
  it('makes a usable 2048-bit pair in PEM and base64', () => {
    const pair = generateKeyPair()
    expect(pair.privateKey).toContain('BEGIN PRIVATE KEY')
    expect(pair.publicKey).toContain('BEGIN PUBLIC KEY')
    const signed = signParams(params, pair.privateKeyBase64)
    expect(verifyParams({ ...params, sign: signed }, pair.publicKeyBase64)).toBe(true)
  })
})

describe('withReplayGuard', () => {
  it('adds a millisecond timestamp and a 32-hex nonce that are then signed', () => {
    const guarded = withReplayGuard(params, { now: 1_700_000_000_123.9 })
    expect(guarded.timestamp).toBe('1700000000123')
    expect(guarded.nonce).toMatch(/^[0-9a-f]{32}$/)
    expect(canonicalString(guarded)).toContain(`&nonce=${guarded.nonce}&`)
    const sign = signParams(guarded, testKeys.privateKey)
    expect(verifyParams({ ...guarded, sign }, testKeys.publicKey)).toBe(true)
    expect(verifyParams({ ...guarded, timestamp: '1700000000124', sign }, testKeys.publicKey)).toBe(
      false,
    )
  })

  it('uses a fresh nonce each call and does not change its input', () => {
    const a = withReplayGuard(params)
    const b = withReplayGuard(params)
    expect(a.nonce).not.toBe(b.nonce)
    expect(Math.abs(Number(a.timestamp) - Date.now())).toBeLessThan(5_000)
    expect(params).not.toHaveProperty('nonce')
  })
})
