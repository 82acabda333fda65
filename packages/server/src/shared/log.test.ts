import { describe, expect, it } from 'vitest'
import { capturingLogger } from '../../test/helpers/logs.js'

describe('logger redaction', () => {
  it('removes secrets and masks personal data at any usual depth', () => {
    const { log, text } = capturingLogger()
    log.info(
      {
        token: 'crm-token-value',
        merchant: {
          privateKey: '-----BEGIN PRIVATE KEY-----abc',
          app: { app_auth_token: 'isv-token' },
        },
        member: { mobile: '13800138000', name: '张三丰', certNo: '110101199003071234' },
        headers: { authorization: 'Bearer xyz', cookie: 'sid=1' },
      },
      'open card',
    )
    const out = text()
    for (const secret of [
      'crm-token-value',
      'BEGIN PRIVATE KEY',
      'isv-token',
      'Bearer xyz',
      'sid=1',
      '13800138000',
      '张三丰',
      '110101199003071234',
    ]) {
      expect(out).not.toContain(secret)
    }
    expect(out).toContain('138****8000')
    expect(out).toContain('张**')
    expect(out).toContain('1101**********1234')
  })
})
