import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { fixedClock } from '../../shared/clock.js'
import { createIds } from '../../shared/ids.js'
import { recentAudit } from '../audit/index.js'
import {
  authenticate,
  countAdminSessions,
  createAdminUser,
  getAdminUser,
  listAdminUsers,
  LOCKOUT_MS,
  login,
  logout,
  resetAdminPassword,
  SESSION_TTL_MS,
  updateAdminUser,
} from './index.js'

const PASSWORD = 'correct horse battery'

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
    return undefined
  } catch (error) {
    return (error as { code?: string }).code
  }
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: admin accounts and sessions`, () => {
    let db: TestDb
    const clock = fixedClock('2026-11-21T08:00:00.000Z')
    const deps = { clock, ids: createIds(() => clock.now().getTime()) }

    beforeAll(async () => {
      db = await createTestDb(dialect)
    })
    afterAll(async () => {
      await db.destroy()
    })
    beforeEach(async () => {
      await db.db.deleteFrom('admin_sessions').execute()
      await db.db.deleteFrom('admin_users').execute()
      await db.db.deleteFrom('audit_log').execute()
    })

    const create = (
      username: string,
      role: 'admin' | 'operator' | 'viewer' = 'operator',
      password = PASSWORD,
    ) => createAdminUser({ ...deps, db: db.db }, { username, password, role }, 'cli')

    describe('createAdminUser', () => {
      it('stores an argon2id hash, never the password, and answers without the hash', async () => {
        const user = await create('Alice ')
        expect(user).toMatchObject({
          username: 'alice',
          role: 'operator',
          disabled: false,
          failedLogins: 0,
          lockedUntil: null,
        })
        expect(JSON.stringify(user)).not.toContain('argon2')
        const row = await db.db
          .selectFrom('admin_users')
          .selectAll()
          .where('id', '=', user.id)
          .executeTakeFirstOrThrow()
        expect(row.password_hash).toMatch(/^\$argon2id\$/)
        expect(row.password_hash).not.toContain(PASSWORD)
      })

      it('refuses a taken username, case-insensitively, with ADMIN_USERNAME_TAKEN', async () => {
        await create('bob')
        expect(await codeOf(create('BOB'))).toBe('ADMIN_USERNAME_TAKEN')
        expect(await listAdminUsers(db)).toHaveLength(1)
      })

      it('refuses a short password, the username as password and a bad role, naming the fields', async () => {
        const short = await createAdminUser(
          { ...deps, db: db.db },
          { username: 'carol', password: 'short', role: 'viewer' },
          'cli',
        ).catch((e: unknown) => e)
        expect(short).toMatchObject({
          code: 'REQUEST_INVALID',
          details: { fields: [expect.objectContaining({ field: 'password' })] },
        })
        expect(
          await codeOf(
            createAdminUser(
              { ...deps, db: db.db },
              { username: 'carolcarol', password: 'CarolCarol', role: 'viewer' },
              'cli',
            ),
          ),
        ).toBe('REQUEST_INVALID')
        const role = await createAdminUser(
          { ...deps, db: db.db },
          { username: 'carol', password: PASSWORD, role: 'root' as 'admin' },
          'cli',
        ).catch((e: unknown) => e)
        expect(role).toMatchObject({
          code: 'REQUEST_INVALID',
          details: { fields: [expect.objectContaining({ field: 'role' })] },
        })
        expect(await listAdminUsers(db)).toEqual([])
      })
    })

    describe('login', () => {
      it('opens a session whose token authenticates to the user, with a CSRF token', async () => {
        const user = await create('dave', 'viewer')
        const session = await login(
          { ...deps, db: db.db },
          {
            username: 'DAVE',
            password: PASSWORD,
            ip: '10.0.0.1',
          },
        )
        expect(session.principal).toEqual({
          userId: user.id,
          username: 'dave',
          role: 'viewer',
          scope: 'platform',
          merchants: [],
          sessionId: expect.stringMatching(/^ses_/),
        })
        expect(session.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
        expect(session.expiresAt).toBe('2026-11-21T20:00:00.000Z')
        const who = await authenticate({ ...deps, db: db.db }, session.sessionToken)
        expect(who).toMatchObject({ ...session.principal, csrfToken: session.csrfToken })
        // Only the hash of the token is stored.
        const rows = await db.db.selectFrom('admin_sessions').selectAll().execute()
        expect(JSON.stringify(rows)).not.toContain(session.sessionToken)
        expect(
          // Change the last character (to one it is not: 1 in 64 tokens already ends in A).
          await authenticate(
            { ...deps, db: db.db },
            `${session.sessionToken.slice(0, -1)}${session.sessionToken.endsWith('A') ? 'B' : 'A'}`,
          ),
        ).toBeUndefined()
      })

      it('answers a wrong password and an unknown user with the same error', async () => {
        await create('erin')
        const fail = (username: string, password: string) =>
          login({ ...deps, db: db.db }, { username, password }).then(
            () => new Error('signed in'),
            (e: unknown) => e as Error,
          )
        const wrong = await fail('erin', 'not the password')
        const unknown = await fail('nobody', PASSWORD)
        expect(wrong).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS' })
        expect(unknown).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS', message: wrong.message })
      })

      it('locks the account after 5 failures for 15 minutes, then lets the right password in', async () => {
        const user = await create('frank')
        for (let i = 1; i <= 4; i++) {
          expect(
            await codeOf(
              login({ ...deps, db: db.db }, { username: 'frank', password: `wrong ${i}` }),
            ),
          ).toBe('AUTH_INVALID_CREDENTIALS')
        }
        const locked = await login(
          { ...deps, db: db.db },
          { username: 'frank', password: 'wrong 5' },
        ).catch((e: unknown) => e)
        expect(locked).toMatchObject({
          code: 'AUTH_LOCKED',
          kind: 'too_many',
          details: { lockedUntil: '2026-11-21T08:15:00.000Z' },
        })
        expect((locked as Error).message).toContain('2026-11-21T08:15:00.000Z')
        // Even the right password is refused while locked.
        expect(
          await codeOf(login({ ...deps, db: db.db }, { username: 'frank', password: PASSWORD })),
        ).toBe('AUTH_LOCKED')
        clock.advance(LOCKOUT_MS - 1)
        expect(
          await codeOf(login({ ...deps, db: db.db }, { username: 'frank', password: PASSWORD })),
        ).toBe('AUTH_LOCKED')
        clock.advance(1)
        await expect(
          login({ ...deps, db: db.db }, { username: 'frank', password: PASSWORD }),
        ).resolves.toBeDefined()
        expect(await getAdminUser(db, user.id)).toMatchObject({
          failedLogins: 0,
          lockedUntil: null,
        })
        const audit = await recentAudit(db, null)
        expect(audit.find((a) => a.action === 'admin.user.lock')).toMatchObject({
          actor: 'system',
          target: { type: 'admin_user', id: user.id },
        })
      })

      it('resets the failure count on a success', async () => {
        await create('gina')
        for (let i = 0; i < 4; i++) {
          await codeOf(login({ ...deps, db: db.db }, { username: 'gina', password: 'wrong wrong' }))
        }
        await login({ ...deps, db: db.db }, { username: 'gina', password: PASSWORD })
        for (let i = 0; i < 4; i++) {
          expect(
            await codeOf(
              login({ ...deps, db: db.db }, { username: 'gina', password: 'wrong wrong' }),
            ),
          ).toBe('AUTH_INVALID_CREDENTIALS')
        }
      })

      it('refuses a disabled user, and disabling ends their sessions', async () => {
        await create('root', 'admin')
        const user = await create('hank')
        const session = await login(
          { ...deps, db: db.db },
          { username: 'hank', password: PASSWORD },
        )
        await updateAdminUser({ ...deps, db: db.db }, user.id, { disabled: true }, 'admin:x')
        expect(await authenticate({ ...deps, db: db.db }, session.sessionToken)).toBeUndefined()
        expect(
          await codeOf(login({ ...deps, db: db.db }, { username: 'hank', password: PASSWORD })),
        ).toBe('AUTH_DISABLED')
        expect(
          await codeOf(
            login({ ...deps, db: db.db }, { username: 'hank', password: 'wrong wrong' }),
          ),
        ).toBe('AUTH_INVALID_CREDENTIALS')
        await updateAdminUser({ ...deps, db: db.db }, user.id, { disabled: false }, 'admin:x')
        await expect(
          login({ ...deps, db: db.db }, { username: 'hank', password: PASSWORD }),
        ).resolves.toBeDefined()
      })
    })

    describe('authenticate', () => {
      it('slides the expiry on use and ends a session 12 h after its last use', async () => {
        await create('ivy')
        const { sessionToken } = await login(
          { ...deps, db: db.db },
          { username: 'ivy', password: PASSWORD },
        )
        clock.advance(SESSION_TTL_MS - 60_000)
        expect(await authenticate({ ...deps, db: db.db }, sessionToken)).toBeDefined()
        clock.advance(SESSION_TTL_MS - 60_000)
        expect(await authenticate({ ...deps, db: db.db }, sessionToken)).toBeDefined()
        clock.advance(SESSION_TTL_MS)
        expect(await authenticate({ ...deps, db: db.db }, sessionToken)).toBeUndefined()
        expect(await db.db.selectFrom('admin_sessions').selectAll().execute()).toEqual([])
      })

      it('reads the role per request, so a role change applies to an open session', async () => {
        await create('root', 'admin')
        const user = await create('jack', 'operator')
        const { sessionToken } = await login(
          { ...deps, db: db.db },
          { username: 'jack', password: PASSWORD },
        )
        await updateAdminUser({ ...deps, db: db.db }, user.id, { role: 'viewer' }, 'admin:root')
        expect((await authenticate({ ...deps, db: db.db }, sessionToken))?.role).toBe('viewer')
      })
    })

    describe('logout', () => {
      it('deletes the session', async () => {
        await create('kim')
        const { sessionToken } = await login(
          { ...deps, db: db.db },
          { username: 'kim', password: PASSWORD },
        )
        await logout(db, sessionToken)
        expect(await authenticate({ ...deps, db: db.db }, sessionToken)).toBeUndefined()
      })
    })

    describe('resetAdminPassword', () => {
      it('sets the new password, clears the lock-out and ends every session of the user', async () => {
        const user = await create('lena')
        const a = await login({ ...deps, db: db.db }, { username: 'lena', password: PASSWORD })
        await login({ ...deps, db: db.db }, { username: 'lena', password: PASSWORD })
        for (let i = 0; i < 5; i++) {
          await codeOf(login({ ...deps, db: db.db }, { username: 'lena', password: 'wrong wrong' }))
        }
        expect((await getAdminUser(db, user.id))?.lockedUntil).not.toBeNull()

        const result = await resetAdminPassword(
          { ...deps, db: db.db },
          { username: 'lena', password: 'a brand new secret' },
          'cli',
        )
        expect(result).toMatchObject({
          sessionsEnded: 2,
          user: { lockedUntil: null, failedLogins: 0 },
        })
        expect(await authenticate({ ...deps, db: db.db }, a.sessionToken)).toBeUndefined()
        expect(await countAdminSessions(db, user.id)).toBe(0)
        expect(
          await codeOf(login({ ...deps, db: db.db }, { username: 'lena', password: PASSWORD })),
        ).toBe('AUTH_INVALID_CREDENTIALS')
        await expect(
          login({ ...deps, db: db.db }, { username: 'lena', password: 'a brand new secret' }),
        ).resolves.toBeDefined()
      })

      it('applies the password rules and names an unknown user', async () => {
        await create('mona')
        expect(
          await codeOf(
            resetAdminPassword(
              { ...deps, db: db.db },
              { username: 'mona', password: 'short' },
              'cli',
            ),
          ),
        ).toBe('REQUEST_INVALID')
        expect(
          await codeOf(
            resetAdminPassword(
              { ...deps, db: db.db },
              { username: 'ghost', password: PASSWORD },
              'cli',
            ),
          ),
        ).toBe('ADMIN_USER_NOT_FOUND')
      })
    })

    describe('updateAdminUser', () => {
      it('will not demote or disable the last enabled admin', async () => {
        const root = await create('root', 'admin')
        expect(
          await codeOf(
            updateAdminUser({ ...deps, db: db.db }, root.id, { role: 'operator' }, 'admin:x'),
          ),
        ).toBe('ADMIN_LAST_ADMIN')
        expect(
          await codeOf(
            updateAdminUser({ ...deps, db: db.db }, root.id, { disabled: true }, 'admin:x'),
          ),
        ).toBe('ADMIN_LAST_ADMIN')
        const second = await create('root2', 'admin')
        await expect(
          updateAdminUser(
            { ...deps, db: db.db },
            root.id,
            { role: 'viewer' },
            `admin:${second.id}`,
          ),
        ).resolves.toMatchObject({ role: 'viewer' })
      })
    })

    describe('audit', () => {
      it('records create, role change, disable and reset with the actor, and never a password or hash', async () => {
        const root = await create('root', 'admin')
        const user = await create('nina', 'viewer')
        await updateAdminUser(
          { ...deps, db: db.db },
          user.id,
          { role: 'operator' },
          `admin:${root.id}`,
          {
            requestId: 'req-1',
          },
        )
        await updateAdminUser(
          { ...deps, db: db.db },
          user.id,
          { disabled: true },
          `admin:${root.id}`,
        )
        await resetAdminPassword(
          { ...deps, db: db.db },
          { userId: user.id, password: 'another long secret' },
          `admin:${root.id}`,
        )
        const trail = await recentAudit(db, null)
        const forNina = trail
          .filter((a) => a.target?.id === user.id)
          .map((a) => ({ actor: a.actor, action: a.action, before: a.before, after: a.after }))
        expect(forNina).toEqual(
          expect.arrayContaining([
            {
              actor: 'cli',
              action: 'admin.user.create',
              before: null,
              after: {
                username: 'nina',
                role: 'viewer',
                scope: 'platform',
                merchants: [],
                disabled: false,
              },
            },
            {
              actor: `admin:${root.id}`,
              action: 'admin.user.update',
              before: { role: 'viewer', disabled: false },
              after: { role: 'operator', disabled: false },
            },
            {
              actor: `admin:${root.id}`,
              action: 'admin.user.update',
              before: { role: 'operator', disabled: false },
              after: { role: 'operator', disabled: true },
            },
            expect.objectContaining({
              actor: `admin:${root.id}`,
              action: 'admin.user.password_reset',
            }),
          ]),
        )
        expect(trail.find((a) => a.requestId === 'req-1')?.action).toBe('admin.user.update')
        const raw = JSON.stringify(await db.db.selectFrom('audit_log').selectAll().execute())
        expect(raw).not.toContain(PASSWORD)
        expect(raw).not.toContain('another long secret')
        expect(raw).not.toContain('argon2')
      })
    })
  })
}
