import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRoleApp, type RoleApp } from '../../src/http/app.js'
import { registerManagement } from '../../src/http/management/index.js'
import { createAdminUser } from '../../src/modules/admin/index.js'
import { ensureDefaultMerchant } from '../../src/modules/merchants/index.js'
import { createTestDb, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'

describe('merchant CRM URL over HTTP', () => {
  let db: TestDb
  let app: RoleApp
  beforeAll(async () => {
    db = await createTestDb('sqlite')
    const deps = testDeps(db)
    await ensureDefaultMerchant(deps)
    app = await buildRoleApp('management', deps, async (scope) => {
      await registerManagement(scope, deps)
    })
    await createAdminUser(
      deps,
      { username: 'admin', password: 'admin password 123', role: 'admin' },
      'cli',
    )
  })
  afterAll(async () => {
    await app.close()
    await db.destroy()
  })

  it('answers 400 ADDRESS_FORBIDDEN naming baseUrl for http://169.254.169.254/', async () => {
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: 'admin password 123' },
    })
    expect(login.statusCode, login.body).toBe(200)
    const res = await app.inject({
      method: 'PUT',
      url: '/api/merchants/mch_default/crm',
      headers: {
        cookie: String(login.headers['set-cookie']).split(';')[0]!,
        'x-csrf-token': login.json().csrfToken,
      },
      payload: { mode: 'none', baseUrl: 'http://169.254.169.254/' },
    })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json()).toMatchObject({ errcode: 'ADDRESS_FORBIDDEN' })
    expect(res.json().message).toMatch(/^baseUrl:/)
  })
})
