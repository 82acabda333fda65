import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRoleApp, type RoleApp } from '../../src/http/app.js'
import { LOGIN_RATE_MAX, registerAuth } from '../../src/http/management/auth.js'
import { createAdminUser } from '../../src/modules/admin/index.js'
import { createTestDb, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'

const PASSWORD = 'owner password 123'

describe('login throttling', () => {
  let db: TestDb
  let app: RoleApp

  const attempt = (username: string, password: string, remoteAddress: string) =>
    app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
      remoteAddress,
    })

  beforeAll(async () => {
    db = await createTestDb('sqlite')
    const deps = testDeps(db)
    app = await buildRoleApp('management', deps, async (scope) => {
      await registerAuth(scope, deps)
    })
    for (const username of ['owner', 'other']) {
      await createAdminUser(deps, { username, password: PASSWORD, role: 'admin' }, 'cli')
    }
  })
  afterAll(async () => {
    await app.close()
    await db.destroy()
  })

  it('limits sign-in attempts per IP with 429 AUTH_RATE_LIMITED; another IP is not limited', async () => {
    for (let i = 0; i < LOGIN_RATE_MAX; i++) {
      const res = await attempt('nobody', `guess ${i}`, '203.0.113.7')
      expect(res.statusCode, res.body).toBe(401)
    }
    const limited = await attempt('nobody', 'guess x', '203.0.113.7')
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toMatchObject({ errcode: 'AUTH_RATE_LIMITED' })
    const fromElsewhere = await attempt('other', PASSWORD, '203.0.113.8')
    expect(fromElsewhere.statusCode, fromElsewhere.body).toBe(200)
  })

  it('backs off per account and IP: guesses from IP A lock A out, the owner still signs in from IP B', async () => {
    for (let i = 1; i < 5; i++) {
      expect((await attempt('owner', `wrong ${i}`, '198.51.100.1')).statusCode).toBe(401)
    }
    const locked = await attempt('owner', 'wrong 5', '198.51.100.1')
    expect(locked.statusCode).toBe(429)
    expect(locked.json()).toMatchObject({ errcode: 'AUTH_LOCKED' })
    // Even the right password is refused from the guessing address…
    expect((await attempt('owner', PASSWORD, '198.51.100.1')).json()).toMatchObject({
      errcode: 'AUTH_LOCKED',
    })
    // …but not from the owner's own address.
    const owner = await attempt('owner', PASSWORD, '198.51.100.2')
    expect(owner.statusCode, owner.body).toBe(200)
  })
})
