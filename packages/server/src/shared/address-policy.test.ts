import { describe, expect, it } from 'vitest'
import { checkUrlAddress, forbiddenAddressReason, resolveAllowed } from './address-policy.js'

describe('forbiddenAddressReason', () => {
  it.each([
    '169.254.169.254',
    '169.254.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '[::]',
    'fe80::1',
    'febf::1',
    'fd00:ec2::254',
    'ff02::1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:0.0.0.0',
    'metadata.google.internal',
    'METADATA.GOOGLE.INTERNAL.',
  ])('refuses %s', (host) => {
    expect(forbiddenAddressReason(host)).toBeTypeOf('string')
  })

  it.each([
    '127.0.0.1',
    '10.0.0.5',
    '192.168.1.10',
    '172.16.0.1',
    '::1',
    '::ffff:127.0.0.1',
    'fd00::1',
    'fc00::254',
    '2001:db8::1',
    'crm.example.com',
    'localhost',
    '8.8.8.8',
  ])('allows %s', (host) => {
    expect(forbiddenAddressReason(host)).toBeUndefined()
  })
})

describe('checkUrlAddress', () => {
  it('names the field and answers ADDRESS_FORBIDDEN', () => {
    expect(() => checkUrlAddress('baseUrl', 'http://169.254.169.254/latest')).toThrow(
      expect.objectContaining({
        code: 'ADDRESS_FORBIDDEN',
        message: expect.stringContaining('baseUrl'),
      }),
    )
    expect(() => checkUrlAddress('baseUrl', 'http://[fe80::1]:8080/')).toThrow(/baseUrl/)
  })
})

describe('resolveAllowed', () => {
  it('resolves a name and allows loopback', async () => {
    expect(await resolveAllowed('baseUrl', 'http://localhost:1/')).toMatch(/^(127\.0\.0\.1|::1)$/)
    expect(await resolveAllowed('baseUrl', 'http://127.0.0.1:1/')).toBe('127.0.0.1')
  })
  it('refuses a forbidden literal before any lookup', async () => {
    await expect(resolveAllowed('baseUrl', 'http://[::ffff:169.254.169.254]/')).rejects.toThrow(
      expect.objectContaining({ code: 'ADDRESS_FORBIDDEN' }),
    )
  })
})
