import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDb } from '../../src/db/db.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { masterKeyStatus } from '../../src/modules/keys/index.js'
import { activateMember, getMember, reserveMember } from '../../src/modules/members/index.js'
import {
  alipayContext,
  crmConnection,
  ensureDefaultMerchant,
  updateAlipayApp,
  updateCrm,
} from '../../src/modules/merchants/index.js'
import { generateMasterKey } from '../../src/shared/field-crypto.js'
import { generateRsaKeyPair } from '../../src/shared/rsa-keys.js'
import { testConfig, testDeps } from '../helpers/deps.js'

const root = new URL('../../../../', import.meta.url).pathname
const main = join(root, 'packages/server/src/cli/main.ts')
const MEMBERS = 120

/** Starts the real CLI; `until` (a stdout test) lets the caller act when a line shows up. */
function kaguan(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
  )
  const child = spawn(
    process.execPath,
    ['--conditions=@kaguan/source', '--import', 'tsx', main, ...args],
    { cwd: root, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = []
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    for (const w of waiters.filter((w) => w.test(stdout))) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    until: (test: (s: string) => boolean, ms: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no such output in ${ms} ms:\n${stdout}\n${stderr}`)),
          ms,
        )
        waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) })
      }),
  }
}

describe('kaguan keys rotate-master, killed with SIGKILL midway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaguan-rotate-'))
  const url = `sqlite:${join(dir, 'kaguan.sqlite')}`
  const oldKey = generateMasterKey()
  const newKey = generateMasterKey()
  const handle = openDb({ url, dialect: 'sqlite', poolSize: 1 })
  const testDb = { ...handle, url, destroy: () => handle.close() }
  const deps = (env: Record<string, string>) =>
    testDeps(testDb, { config: testConfig({ KAGUAN_DATABASE_URL: url, ...env }) })
  afterAll(() => handle.close())

  it('resumes after kill -9 and ends with every secret and personal field readable under the new key alone', async () => {
    await migrateToLatest(handle.db)
    const before = deps({ KAGUAN_MASTER_KEY: oldKey })
    await ensureDefaultMerchant(before)
    const actor = { actor: 'admin' }
    await updateAlipayApp(
      before,
      'mch_default',
      {
        appId: '2021000000000002',
        privateKey: generateRsaKeyPair().privateKeyPem,
        alipayPublicKey: generateRsaKeyPair().publicKeyPem,
        gateway: 'http://127.0.0.1:9/gateway.do',
      },
      actor,
    )
    await updateCrm(
      before,
      'mch_default',
      {
        mode: 'crm',
        baseUrl: 'http://127.0.0.1:9',
        token: 'crm-token-0000001',
        publicKey: generateRsaKeyPair().publicKeyPem,
      },
      actor,
    )
    for (let i = 0; i < MEMBERS; i++) {
      const m = await reserveMember(
        before,
        'mch_default',
        `2088${String(i).padStart(12, '0')}`,
        { name: `会员${i}`, mobile: `1390000${String(i).padStart(4, '0')}` },
        { prefix: 'R', style: 'sequential' },
      )
      await activateMember(before, m.id)
    }

    const env = {
      KAGUAN_DATABASE_URL: url,
      KAGUAN_MASTER_KEY: newKey,
      KAGUAN_MASTER_KEY_PREVIOUS: oldKey,
      KAGUAN_LOG_LEVEL: 'warn',
    }
    const args = ['keys', 'rotate-master', '--batch-size', '4', '--pause-ms', '60']
    const first = kaguan(args, env)
    // Killed once some members' batches have committed (a line names members, not yet done).
    await first.until((out) => /members [1-9]\d*\/120 rows/.test(out), 60_000)
    first.child.kill('SIGKILL')
    expect((await first.exited).signal).toBe('SIGKILL')

    const during = deps({ KAGUAN_MASTER_KEY: newKey, KAGUAN_MASTER_KEY_PREVIOUS: oldKey })
    const midway = (await masterKeyStatus(during)).parts.find((p) => p.part === 'members')!
    expect(midway.stale).toBeGreaterThan(0)
    expect(midway.stale).toBeLessThan(MEMBERS)
    const saved = await handle.db
      .selectFrom('master_key_rotation')
      .selectAll()
      .where('part', '=', 'members')
      .executeTakeFirstOrThrow()
    expect(saved.finished_at).toBeNull()
    expect(Number(saved.scanned)).toBeGreaterThan(0)

    const second = kaguan(['keys', 'rotate-master', '--batch-size', '20'], env)
    const end = await second.exited
    const { stdout, stderr } = second.output()
    expect(end.code, stderr).toBe(0)
    // It continued: its first members line starts past where the killed run had got to.
    const firstLine = /members (\d+)\/120 rows/.exec(stdout)
    expect(Number(firstLine![1])).toBeGreaterThan(Number(saved.scanned))
    expect(stdout).toMatch(/previous master key is no longer needed/)
    expect(stdout + stderr).not.toContain(oldKey)
    expect(stdout + stderr).not.toContain(newKey)

    const after = deps({ KAGUAN_MASTER_KEY: newKey })
    expect((await masterKeyStatus(after)).parts.map((p) => p.stale)).toEqual([0, 0, 0])
    const ids = await handle.db.selectFrom('members').select('id').execute()
    expect(ids).toHaveLength(MEMBERS)
    for (const { id } of ids) {
      expect((await getMember(after, id))!.profile.mobile).toMatch(/^1390000\d{4}$/)
    }
    expect((await crmConnection(after, 'mch_default'))!.token).toBe('crm-token-0000001')
    expect((await alipayContext(after, 'mch_default')).appId).toBe('2021000000000002')
  }, 120_000)
})
