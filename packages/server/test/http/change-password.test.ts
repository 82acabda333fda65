import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'
import { startManagement, TEST_PASSWORDS, type ManagementApp } from '../helpers/management.js'

const NEW_PASSWORD = 'a new operator password'

for (const dialect of DIALECTS) {
  describe(`${dialect}: changing one's own password`, () => {
    let db: TestDb
    let m: ManagementApp

    const signIn = (password: string) =>
      m.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'operator-user', password },
      })
    const change = (body: object, csrf = true) =>
      m.app.inject({
        method: 'POST',
        url: '/api/auth/password',
        headers: {
          cookie: m.sessions.operator.cookie,
          ...(csrf ? { 'x-csrf-token': m.sessions.operator.csrf } : {}),
        },
        payload: body,
      })

    beforeAll(async () => {
      db = await createTestDb(dialect)
      m = await startManagement(testDeps(db))
    })
    afterAll(async () => {
      await m.close()
      await db.destroy()
    })

    it('needs the current password and a good new one, naming the field', async () => {
      const wrong = await change({ currentPassword: 'not it at all', newPassword: NEW_PASSWORD })
      expect(wrong.statusCode).toBe(400)
      expect(wrong.json()).toMatchObject({
        errcode: 'AUTH_CURRENT_PASSWORD_WRONG',
        details: { fields: [{ field: 'body.currentPassword' }] },
      })
      const short = await change({ currentPassword: TEST_PASSWORDS.operator, newPassword: 'short' })
      expect(short.statusCode).toBe(400)
      expect(short.json().details.fields[0].field).toBe('body.newPassword')
      const noCsrf = await change(
        { currentPassword: TEST_PASSWORDS.operator, newPassword: NEW_PASSWORD },
        false,
      )
      expect(noCsrf.statusCode).toBe(403)
      const signedOut = await m.call('POST', '/api/auth/password', undefined, {
        currentPassword: TEST_PASSWORDS.operator,
        newPassword: NEW_PASSWORD,
      })
      expect(signedOut.statusCode).toBe(401)
      // Nothing changed so far.
      expect((await signIn(TEST_PASSWORDS.operator)).statusCode).toBe(200)
    })

    it('changes it, keeps this session, ends the others, and audits without the password', async () => {
      const other = await signIn(TEST_PASSWORDS.operator)
      const otherCookie = String(other.headers['set-cookie']).split(';')[0]!
      const res = await change({
        currentPassword: TEST_PASSWORDS.operator,
        newPassword: NEW_PASSWORD,
      })
      expect(res.statusCode, res.body).toBe(204)

      expect((await m.call('GET', '/api/auth/me', 'operator')).statusCode).toBe(200)
      const ended = await m.app.inject({ url: '/api/auth/me', headers: { cookie: otherCookie } })
      expect(ended.statusCode).toBe(401)
      expect((await signIn(TEST_PASSWORDS.operator)).statusCode).toBe(401)
      expect((await signIn(NEW_PASSWORD)).statusCode).toBe(200)

      const audit = (
        await m.call('GET', '/api/audit?action=admin.user.password_change', 'admin')
      ).json()
      expect(audit.total).toBe(1)
      expect(audit.items[0].actor).toMatch(/^admin:/)
      expect(JSON.stringify(audit.items[0])).not.toContain(NEW_PASSWORD)
    })
  })
}
