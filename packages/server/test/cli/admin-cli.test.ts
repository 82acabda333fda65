import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDb } from '../../src/db/db.js'
import { login } from '../../src/modules/admin/index.js'
import { DEFAULT_MERCHANT_ID, ensureDefaultMerchant } from '../../src/modules/merchants/index.js'
import { systemClock } from '../../src/shared/clock.js'
import { createIds } from '../../src/shared/ids.js'

const root = new URL('../../../../', import.meta.url).pathname
const main = join(root, 'packages/server/src/cli/main.ts')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

// Both source conditions: the packages are moving from "source" to "@kaguan/source".
/** Runs the real `kaguan` CLI (tsx, sources) with `stdin` piped in and only the given KAGUAN_* variables. */
function kaguan(args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
  )
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--conditions=@kaguan/source', '--import', 'tsx', main, ...args],
      {
        cwd: root,
        env: { ...clean, ...env },
        timeout: 30_000,
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin)
  })
}

// Each case runs several CLI processes (tsx compiles the CLI, argon2 hashes): slow on a busy machine.
describe('kaguan admin', { timeout: 90_000 }, () => {
  it('creates an account with the password from stdin, resets it from a file, and both sign in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaguan-admin-'))
    const file = join(dir, 'k.sqlite')
    const env = { KAGUAN_DATABASE_URL: `sqlite:${file}` }

    const created = await kaguan(
      ['admin', 'create', '--username', 'Root', '--role', 'admin'],
      env,
      'first password 1\n',
    )
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout).toMatch(/created admin user "root" \(admin, adm_/)
    expect(created.stdout + created.stderr).not.toContain('first password 1')

    const taken = await kaguan(
      ['admin', 'create', '--username', 'root', '--role', 'viewer'],
      env,
      'other password 1\n',
    )
    expect(taken.code).toBe(1)
    expect(taken.stderr).toContain('already taken')

    const handle = openDb({ url: `sqlite:${file}`, dialect: 'sqlite' })
    const deps = { clock: systemClock, ids: createIds() }
    try {
      const session = await login(
        { ...deps, db: handle.db },
        {
          username: 'root',
          password: 'first password 1',
        },
      )
      expect(session.principal).toMatchObject({ username: 'root', role: 'admin' })

      writeFileSync(join(dir, 'pw'), 'second password 2\n')
      const reset = await kaguan(
        ['admin', 'reset-password', '--username', 'root', '--password-file', join(dir, 'pw')],
        env,
      )
      expect(reset.code, reset.stderr).toBe(0)
      expect(reset.stdout).toContain('1 session(s) ended')
      await expect(
        login({ ...deps, db: handle.db }, { username: 'root', password: 'first password 1' }),
      ).rejects.toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS' })
      await expect(
        login({ ...deps, db: handle.db }, { username: 'root', password: 'second password 2' }),
      ).resolves.toBeDefined()
    } finally {
      await handle.close()
    }
  })

  it('refuses a short password (exit 1), a missing password (exit 2) and an unknown role (exit 2)', async () => {
    const env = {
      KAGUAN_DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'kaguan-admin-')), 'k.sqlite')}`,
    }
    const short = await kaguan(
      ['admin', 'create', '--username', 'amy', '--role', 'viewer'],
      env,
      'short\n',
    )
    expect(short.code).toBe(1)
    expect(short.stderr).toContain('password: must be at least 10 characters')
    const none = await kaguan(['admin', 'create', '--username', 'amy', '--role', 'viewer'], env, '')
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('--password-file')
    const role = await kaguan(
      ['admin', 'create', '--username', 'amy', '--role', 'root'],
      env,
      'long enough password\n',
    )
    expect(role.code).toBe(2)
    expect(
      (await kaguan(['admin', 'create', '--username', 'amy', '--password', 'x'], env)).code,
    ).toBe(2)
  })

  it('creates a merchant-scoped account with --merchant, and refuses an unknown merchant', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kaguan-admin-')), 'k.sqlite')
    const env = { KAGUAN_DATABASE_URL: `sqlite:${file}` }
    const platform = await kaguan(
      ['admin', 'create', '--username', 'isv', '--role', 'admin'],
      env,
      'platform password 1\n',
    )
    expect(platform.stdout).toContain('a platform admin, sees every merchant')
    const handle = openDb({ url: `sqlite:${file}`, dialect: 'sqlite' })
    const deps = { clock: systemClock, ids: createIds() }
    try {
      await ensureDefaultMerchant({ db: handle.db, clock: systemClock })
      const merchant = { id: DEFAULT_MERCHANT_ID }
      const scoped = await kaguan(
        [
          'admin',
          'create',
          '--username',
          'shop-ops',
          '--role',
          'operator',
          '--merchant',
          merchant.id,
        ],
        env,
        'operator password 1\n',
      )
      expect(scoped.code, scoped.stderr).toBe(0)
      expect(scoped.stdout).toContain(`sees only merchant ${merchant.id}`)
      const session = await login(
        { ...deps, db: handle.db },
        { username: 'shop-ops', password: 'operator password 1' },
      )
      expect(session.principal).toMatchObject({
        scope: 'merchant',
        merchants: [{ merchantId: merchant.id, role: 'operator' }],
      })
      const unknown = await kaguan(
        ['admin', 'create', '--username', 'lost', '--role', 'viewer', '--merchant', 'mch_nope'],
        env,
        'viewer password 1\n',
      )
      expect(unknown.code).toBe(1)
      expect(unknown.stderr).toContain('merchants')
    } finally {
      await handle.close()
    }
  })
})
