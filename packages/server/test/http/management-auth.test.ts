import { Type } from '@sinclair/typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRoleApp, type RoleApp } from '../../src/http/app.js'
import { registerAuth, requirePermission } from '../../src/http/management/auth.js'
import {
  AdminRoles,
  can,
  createAdminUser,
  Permissions,
  type AdminRole,
  type Permission,
} from '../../src/modules/admin/index.js'
import { createTestDb, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'
import { capturingLogger } from '../helpers/logs.js'

const PASSWORDS: Record<AdminRole, string> = {
  admin: 'admin password 123',
  operator: 'operator password 456',
  viewer: 'viewer password 789',
}
const FAKE_PRIVATE_KEY =
  '-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----'

/** The policy, written out independently of the implementation. */
const EXPECTED: Record<AdminRole, Permission[]> = {
  admin: [...Permissions],
  operator: [
    'settings.read',
    'templates.read',
    'templates.write',
    'templates.publish',
    'members.read',
    'members.write',
  ],
  viewer: ['settings.read', 'templates.read', 'members.read'],
}

interface Session {
  cookie: string
  csrf: string
  setCookie: string
}

describe('management auth', () => {
  let db: TestDb
  let app: RoleApp
  const logs = capturingLogger()
  const responses: string[] = []
  const sessions = {} as Record<AdminRole, Session>
  const ids = {} as Record<AdminRole, string>

  async function signIn(username: string, password: string): Promise<Session> {
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
    })
    responses.push(res.body)
    expect(res.statusCode, res.body).toBe(200)
    const setCookie = String(res.headers['set-cookie'])
    return { cookie: setCookie.split(';')[0]!, csrf: res.json().csrfToken, setCookie }
  }

  async function call(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    session?: Session,
    payload?: object,
    csrf = true,
  ) {
    const headers: Record<string, string> = {}
    if (session) {
      headers.cookie = session.cookie
    }
    if (session && csrf) {
      headers['x-csrf-token'] = session.csrf
    }
    const res = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
    responses.push(res.body)
    return res
  }

  beforeAll(async () => {
    db = await createTestDb('sqlite')
    const deps = testDeps(db, { log: logs.log })
    app = await buildRoleApp('management', deps, async (scope) => {
      await registerAuth(scope, deps, { loginRateMax: 1000 })
      scope.post(
        '/api/test/publish',
        { preValidation: requirePermission('templates.publish') },
        () => ({ ok: true }),
      )
      scope.get(
        '/api/test/templates',
        { preValidation: requirePermission('templates.read') },
        () => ({
          ok: true,
        }),
      )
      scope.post(
        '/api/test/strict',
        {
          preValidation: requirePermission('templates.write'),
          schema: { body: Type.Object({ name: Type.String() }, { additionalProperties: false }) },
        },
        () => ({ ok: true }),
      )
      // What a keys route must look like: only a fingerprint ever leaves the server.
      scope.get('/api/test/keys', { preValidation: requirePermission('keys.read') }, () => ({
        fingerprint: 'SHA256:abc',
      }))
      scope.put('/api/test/keys', { preValidation: requirePermission('keys.write') }, () => ({
        fingerprint: 'SHA256:def',
      }))
    })
    for (const role of AdminRoles) {
      ids[role] = (
        await createAdminUser(
          deps,
          { username: `${role}-user`, password: PASSWORDS[role], role },
          'cli',
        )
      ).id
      sessions[role] = await signIn(`${role}-user`, PASSWORDS[role])
    }
  })
  afterAll(async () => {
    await app.close()
    await db.destroy()
  })

  it('sets an httpOnly, SameSite=Strict session cookie on /', () => {
    const cookie = sessions.admin.setCookie
    expect(cookie).toMatch(/^kaguan_session=[A-Za-z0-9_-]{43};/)
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    expect(cookie).toMatch(/Path=\//)
    expect(cookie).not.toMatch(/Secure/i)
  })

  it('marks the cookie Secure behind a proxy that says https', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'x-forwarded-proto': 'https' },
      payload: { username: 'viewer-user', password: PASSWORDS.viewer },
    })
    expect(String(res.headers['set-cookie'])).toMatch(/; Secure/i)
  })

  it('answers 401 AUTH_REQUIRED without a session, or with a made-up one', async () => {
    const none = await call('GET', '/api/test/templates')
    expect(none.statusCode).toBe(401)
    expect(none.json().errcode).toBe('AUTH_REQUIRED')
    const fake = await app.inject({
      url: '/api/auth/me',
      headers: { cookie: `kaguan_session=${'A'.repeat(43)}` },
    })
    expect(fake.statusCode).toBe(401)
  })

  it('answers 401, not 400, to an anonymous write with a bad body: the session comes first', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/test/strict',
      headers: { 'content-type': 'application/json' },
      payload: { name: 1, type: 'exe' },
    })
    expect(res.statusCode).toBe(401)
    expect(res.json().errcode).toBe('AUTH_REQUIRED')
  })

  it('refuses wrong credentials with 401 AUTH_INVALID_CREDENTIALS, the same for an unknown user', async () => {
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'viewer-user', password: 'nope nope nope' },
    })
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'ghost', password: 'nope nope nope' },
    })
    expect(wrong.statusCode).toBe(401)
    expect(unknown.statusCode).toBe(401)
    expect(wrong.json().errcode).toBe('AUTH_INVALID_CREDENTIALS')
    expect(unknown.json().message).toBe(wrong.json().message)
    expect(wrong.headers['set-cookie']).toBeUndefined()
  })

  it('tells who is signed in, the CSRF token and the permissions of the role', async () => {
    const me = await call('GET', '/api/auth/me', sessions.operator)
    expect(me.statusCode).toBe(200)
    expect(me.json()).toEqual({
      user: { id: ids.operator, username: 'operator-user', role: 'operator' },
      scope: 'platform',
      merchants: [],
      csrfToken: sessions.operator.csrf,
      permissions: EXPECTED.operator,
    })
  })

  it('lets a viewer read templates but not publish (403 AUTH_FORBIDDEN naming the permission)', async () => {
    expect((await call('GET', '/api/test/templates', sessions.viewer)).statusCode).toBe(200)
    const publish = await call('POST', '/api/test/publish', sessions.viewer)
    expect(publish.statusCode).toBe(403)
    expect(publish.json()).toMatchObject({
      errcode: 'AUTH_FORBIDDEN',
      details: { permission: 'templates.publish' },
    })
    expect(publish.json().message).toContain('templates.publish')
  })

  it('lets an operator publish but neither read nor change keys; an admin can do both', async () => {
    expect((await call('POST', '/api/test/publish', sessions.operator)).statusCode).toBe(200)
    expect((await call('GET', '/api/test/keys', sessions.operator)).statusCode).toBe(403)
    expect(
      (await call('PUT', '/api/test/keys', sessions.operator, { privateKey: FAKE_PRIVATE_KEY }))
        .statusCode,
    ).toBe(403)
    expect((await call('GET', '/api/test/keys', sessions.admin)).json()).toEqual({
      fingerprint: 'SHA256:abc',
    })
    expect(
      (await call('PUT', '/api/test/keys', sessions.admin, { privateKey: FAKE_PRIVATE_KEY }))
        .statusCode,
    ).toBe(200)
  })

  it('checks CSRF by the matched route, so a percent-encoded /api path is refused too', async () => {
    for (const url of ['/%61pi/test/publish', '/%61%70%69/test/publish']) {
      const res = await call('POST', url, sessions.admin, undefined, false)
      expect(res.statusCode).toBe(403)
      expect(res.json().errcode).toBe('AUTH_CSRF_INVALID')
    }
  })

  it('refuses unsafe requests without the right x-csrf-token with 403 AUTH_CSRF_INVALID', async () => {
    const missing = await call('POST', '/api/test/publish', sessions.admin, undefined, false)
    expect(missing.statusCode).toBe(403)
    expect(missing.json().errcode).toBe('AUTH_CSRF_INVALID')
    const other = await call('POST', '/api/test/publish', {
      ...sessions.admin,
      csrf: sessions.operator.csrf,
    })
    expect(other.json().errcode).toBe('AUTH_CSRF_INVALID')
    const put = await call(
      'PUT',
      '/api/test/keys',
      sessions.admin,
      { privateKey: FAKE_PRIVATE_KEY },
      false,
    )
    expect(put.json().errcode).toBe('AUTH_CSRF_INVALID')
    // Safe methods need no token.
    expect((await call('GET', '/api/test/keys', sessions.admin, undefined, false)).statusCode).toBe(
      200,
    )
  })

  it('grants exactly the expected permissions to every role', () => {
    for (const role of AdminRoles) {
      for (const permission of Permissions) {
        expect({ role, permission, granted: can(role, permission) }).toEqual({
          role,
          permission,
          granted: EXPECTED[role].includes(permission),
        })
      }
    }
  })

  it('enforces every permission over HTTP as can() says', async () => {
    const perms = await Promise.all(
      AdminRoles.map(async (role) => [
        role,
        (await call('GET', '/api/auth/me', sessions[role])).json().permissions,
      ]),
    )
    expect(Object.fromEntries(perms)).toEqual(EXPECTED)
  })

  it('lets only users.manage list, create, change and reset admin users, audited', async () => {
    for (const role of ['operator', 'viewer'] as const) {
      expect((await call('GET', '/api/admin-users', sessions[role])).statusCode).toBe(403)
      expect(
        (
          await call('POST', '/api/admin-users', sessions[role], {
            username: 'x-user',
            password: 'long enough pw',
            role: 'admin',
          })
        ).statusCode,
      ).toBe(403)
    }
    const created = await call('POST', '/api/admin-users', sessions.admin, {
      username: 'olga',
      password: 'olga password 1',
      role: 'viewer',
    })
    expect(created.statusCode, created.body).toBe(201)
    const olga = created.json()
    expect(olga).toMatchObject({ username: 'olga', role: 'viewer', disabled: false })
    expect(created.body).not.toContain('olga password 1')

    const dup = await call('POST', '/api/admin-users', sessions.admin, {
      username: 'OLGA',
      password: 'olga password 1',
      role: 'viewer',
    })
    expect(dup.statusCode).toBe(409)
    expect(dup.json().errcode).toBe('ADMIN_USERNAME_TAKEN')
    const short = await call('POST', '/api/admin-users', sessions.admin, {
      username: 'pete',
      password: 'short',
      role: 'viewer',
    })
    expect(short.statusCode).toBe(400)
    expect(short.json().errcode).toBe('REQUEST_INVALID')
    expect(short.json().message).toContain('password')

    const olgaSession = await signIn('olga', 'olga password 1')
    const promoted = await call('PATCH', `/api/admin-users/${olga.id}`, sessions.admin, {
      role: 'operator',
    })
    expect(promoted.json().role).toBe('operator')
    expect((await call('POST', '/api/test/publish', olgaSession)).statusCode).toBe(200)

    const reset = await call('POST', `/api/admin-users/${olga.id}/reset-password`, sessions.admin, {
      password: 'olga password 2',
    })
    expect(reset.statusCode, reset.body).toBe(200)
    expect((await call('GET', '/api/auth/me', olgaSession)).statusCode).toBe(401)
    await signIn('olga', 'olga password 2')

    const disabled = await call('PATCH', `/api/admin-users/${olga.id}`, sessions.admin, {
      disabled: true,
    })
    expect(disabled.json().disabled).toBe(true)
    const refused = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'olga', password: 'olga password 2' },
    })
    expect(refused.statusCode).toBe(403)
    expect(refused.json().errcode).toBe('AUTH_DISABLED')

    const list = await call('GET', '/api/admin-users', sessions.admin)
    expect(list.json().items.map((u: { username: string }) => u.username)).toEqual([
      'admin-user',
      'olga',
      'operator-user',
      'viewer-user',
    ])

    const audit = await db.db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', olga.id)
      .execute()
    expect(audit.map((a) => a.action).sort()).toEqual([
      'admin.user.create',
      'admin.user.password_reset',
      'admin.user.update',
      'admin.user.update',
    ])
    expect(audit.every((a) => a.actor === `admin:${ids.admin}` && a.request_id)).toBe(true)
    expect(JSON.stringify(audit)).not.toMatch(/olga password|argon2/)
  })

  it('locks an account over HTTP after 5 failures with AUTH_LOCKED (429) saying until when', async () => {
    const deps = testDeps(db)
    await createAdminUser(
      deps,
      { username: 'quinn', password: 'quinn password', role: 'viewer' },
      'cli',
    )
    let last
    for (let i = 0; i < 5; i++) {
      last = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'quinn', password: 'bad password' },
      })
    }
    expect(last!.statusCode).toBe(429)
    expect(last!.json()).toMatchObject({
      errcode: 'AUTH_LOCKED',
      details: { lockedUntil: expect.any(String) },
    })
    expect(last!.json().message).toContain(last!.json().details.lockedUntil)
  })

  it('ends the session on logout: the cookie is cleared and no longer works', async () => {
    const session = await signIn('viewer-user', PASSWORDS.viewer)
    const noCsrf = await call('POST', '/api/auth/logout', session, undefined, false)
    expect(noCsrf.json().errcode).toBe('AUTH_CSRF_INVALID')
    const out = await call('POST', '/api/auth/logout', session)
    expect(out.statusCode).toBe(204)
    expect(String(out.headers['set-cookie'])).toMatch(/kaguan_session=;/)
    expect((await call('GET', '/api/auth/me', session)).statusCode).toBe(401)
    expect((await call('GET', '/api/auth/me', sessions.viewer)).statusCode).toBe(200)
  })

  it('never puts a password, hash, session token or private key in a response or a log line', () => {
    const text = logs.text()
    const everything = `${responses.join('\n')}\n${text}`
    for (const password of [
      ...Object.values(PASSWORDS),
      'olga password 1',
      'olga password 2',
      'quinn password',
      'bad password',
    ]) {
      expect(everything).not.toContain(password)
    }
    expect(everything).not.toContain('argon2')
    expect(everything).not.toContain('BEGIN PRIVATE KEY')
    for (const session of Object.values(sessions)) {
      expect(text).not.toContain(session.cookie.split('=')[1])
    }
    expect(text).toContain('"url":"/api/auth/login"')
  })
})
