import { describe, expect, it } from 'vitest'
import { capturingLogger } from '../../test/helpers/logs.js'
import { lazyChildLogger } from './log.js'

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

describe('lazyChildLogger (per-request logger)', () => {
  it('makes no child for lines below the level, and logs with its bindings, redacted, above it', () => {
    const { log, text } = capturingLogger('info')
    let children = 0
    const parent = new Proxy(log, {
      get(target, property) {
        if (property === 'child') {
          return (...args: Parameters<typeof log.child>) => {
            children++
            return target.child(...args)
          }
        }
        const value: unknown = Reflect.get(target, property, target)
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value
      },
    })
    const quiet = lazyChildLogger(parent, { requestId: 'req_1' }, {})
    quiet.debug({ token: 'x' }, 'below info')
    quiet.trace('below info')
    expect(children).toBe(0)
    expect(text()).toBe('')

    const loud = lazyChildLogger(parent, { requestId: 'req_2' }, {})
    loud.info({ token: 'crm-token-value' }, 'a line')
    loud.warn('another')
    expect(children).toBe(1)
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.map((l) => [l.requestId, l.msg])).toEqual([
      ['req_2', 'a line'],
      ['req_2', 'another'],
    ])
    expect(text()).not.toContain('crm-token-value')
    // A route's own level (Fastify passes it as an option) decides, not the parent's.
    const verbose = lazyChildLogger(parent, { requestId: 'req_3' }, { level: 'debug' })
    verbose.debug('shown at debug')
    expect(text()).toContain('shown at debug')
    expect(verbose.level).toBe('debug')
  })
})
