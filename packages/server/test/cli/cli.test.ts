import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = new URL('../../../../', import.meta.url).pathname
const main = join(root, 'packages/server/src/cli/main.ts')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the real `kaguan` CLI as npm's scripts do (tsx, sources), with only the given KAGUAN_* variables. */
function kaguan(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
  )
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@kaguan/source', '--import', 'tsx', main, ...args],
      { cwd: root, env: { ...clean, ...env }, timeout: 80_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    )
  })
}

function noStack(run: Run) {
  expect(run.stderr).not.toMatch(/\n\s+at /)
}

describe('kaguan CLI', () => {
  it('reports a missing --config file as that file, not as KAGUAN_CONFIG', async () => {
    const run = await kaguan(['config', 'check', '--config', 'missing.yaml'], {
      KAGUAN_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      `--config ${join(root, 'missing.yaml')}: the config file does not exist`,
    )
    expect(run.stderr).not.toContain('KAGUAN_CONFIG')
    const fromEnv = await kaguan(['config', 'check'], {
      KAGUAN_CONFIG: 'gone.yaml',
      KAGUAN_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    })
    expect(fromEnv.stderr).toContain(`KAGUAN_CONFIG ${join(root, 'gone.yaml')}`)
    noStack(run)
  })

  it('runs as the `kaguan` bin from any folder (npx kaguan in the repository)', async () => {
    const bin = join(root, 'node_modules/.bin/kaguan')
    const elsewhere = mkdtempSync(join(tmpdir(), 'kaguan-bin-'))
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
    )
    const run = (args: string[]) =>
      new Promise<Run>((resolve) => {
        execFile(
          bin,
          args,
          { cwd: elsewhere, env: clean, timeout: 30_000 },
          (error, stdout, stderr) =>
            resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
        )
      })
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('kaguan start')
    const usage = await run(['nonsense'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('nonsense')
    const viaNpx = await new Promise<Run>((resolve) => {
      execFile(
        'npx',
        ['--no-install', 'kaguan', 'keys', 'master'],
        { cwd: root, env: clean, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      )
    })
    expect(viaNpx.code).toBe(0)
    expect(Buffer.from(viaNpx.stdout.trim(), 'base64')).toHaveLength(32)
  }, 90_000)

  it('config check connects to the database and names the setting when it cannot', async () => {
    const run = await kaguan(['config', 'check'], {
      KAGUAN_DATABASE_URL: 'postgres://kaguan:s3cret@127.0.0.1:1/x',
      KAGUAN_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('KAGUAN_DATABASE_URL')
    expect(run.stderr).toContain('cannot connect')
    expect(run.stderr).not.toContain('s3cret')
    noStack(run)
  })

  it('prints the usage of every command for --help and -h, exit 0', async () => {
    const commands = [
      'start',
      'demo',
      'emulator',
      'migrate',
      'config',
      'keys',
      'admin',
      'crm-check',
      'reconcile',
      'outbox',
    ]
    const runs = await Promise.all(
      commands.map((c, i) =>
        kaguan([c, ...(c === 'config' ? ['check'] : []), i % 2 ? '-h' : '--help']),
      ),
    )
    runs.forEach((run, i) => {
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(`kaguan ${commands[i]}`)
      expect(run.stdout).not.toContain('Unknown option')
    })
    // Ten processes, each compiling the CLI with tsx, at once: a busy 2-core machine needs longer.
  }, 90_000)

  it('exits 1 naming the key for an unknown role, a malformed database URL, and a missing master key', async () => {
    const role = await kaguan(['config', 'check'], {
      KAGUAN_ROLES: 'core,gateway',
      KAGUAN_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    })
    expect(role.code).toBe(1)
    expect(role.stderr).toContain('KAGUAN_ROLES: unknown role "gateway"')
    noStack(role)

    const url = await kaguan(['start', '--role', 'core'], {
      KAGUAN_DATABASE_URL: 'postgres://user@:x/db',
      KAGUAN_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    })
    expect(url.code).toBe(1)
    expect(url.stderr).toContain('KAGUAN_DATABASE_URL')
    noStack(url)

    const key = await kaguan(['start'], {
      KAGUAN_DATA_DIR: mkdtempSync(join(tmpdir(), 'kaguan-cli-')),
    })
    expect(key.code).toBe(1)
    expect(key.stderr).toContain('KAGUAN_MASTER_KEY_FILE')
    noStack(key)
  })

  it('exits 2 with the usage text for an unknown command or flag', async () => {
    const run = await kaguan(['strat'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('unknown command "strat"')
    expect((await kaguan(['start', '--rolle', 'core'])).code).toBe(2)
  })

  it('prints the effective configuration with secrets redacted', async () => {
    const key = Buffer.alloc(32, 7).toString('base64')
    const run = await kaguan(['config', 'check', '--role', 'core'], {
      KAGUAN_MASTER_KEY: key,
      KAGUAN_DATA_DIR: mkdtempSync(join(tmpdir(), 'kaguan-check-')),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('valid')
    expect(run.stdout).toContain('- core')
    expect(run.stdout).not.toContain(key)
    // A PostgreSQL password stays hidden in the answer too (here the database cannot be reached).
    const pg = await kaguan(['config', 'check'], {
      KAGUAN_MASTER_KEY: key,
      KAGUAN_DATABASE_URL: 'postgres://kaguan:pw123@127.0.0.1:1/kaguan',
    })
    expect(pg.stdout + pg.stderr).not.toContain('pw123')
  })

  it('makes a master key and an RSA2 key pair in the formats Alipay uses', async () => {
    const master = await kaguan(['keys', 'master'])
    expect(Buffer.from(master.stdout.trim(), 'base64')).toHaveLength(32)

    const out = mkdtempSync(join(tmpdir(), 'kaguan-keys-'))
    expect((await kaguan(['keys', 'gen', '--out', out])).code).toBe(0)
    const privatePem = readFileSync(join(out, 'app_private_key.pem'), 'utf8')
    const publicPem = readFileSync(join(out, 'app_public_key.pem'), 'utf8')
    expect(privatePem).toContain('BEGIN PRIVATE KEY') // PKCS#8, not "BEGIN RSA PRIVATE KEY"
    expect(publicPem).toContain('BEGIN PUBLIC KEY') // SPKI
    const privateKey = createPrivateKey(privatePem)
    expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048)
    const bare = readFileSync(join(out, 'app_public_key.txt'), 'utf8').trim()
    expect(bare).not.toContain('-----')
    const publicKey = createPublicKey({
      key: Buffer.from(bare, 'base64'),
      format: 'der',
      type: 'spki',
    })
    const signature = sign('sha256', Buffer.from('a=1&b=2'), privateKey)
    expect(verify('sha256', Buffer.from('a=1&b=2'), publicKey, signature)).toBe(true)
  })

  it('migrates a database and reports it up to date the second time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaguan-migrate-'))
    const env = { KAGUAN_DATABASE_URL: `sqlite:${join(dir, 'k.sqlite')}` }
    const first = await kaguan(['migrate'], env)
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('2026_11_21_0000_foundation')
    expect((await kaguan(['migrate'], env)).stdout).toContain('up to date')
  })

  it('starts one role per process, answers readiness over HTTP, and stops cleanly on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaguan-start-'))
    writeFileSync(join(dir, 'master.key'), Buffer.alloc(32, 3).toString('base64'))
    const child = spawn(
      process.execPath,
      ['--conditions=@kaguan/source', '--import', 'tsx', main, 'start', '--role', 'core'],
      {
        cwd: root,
        env: {
          ...Object.fromEntries(
            Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
          ),
          KAGUAN_CORE_PORT: '0',
          KAGUAN_DATA_DIR: dir,
          KAGUAN_MASTER_KEY_FILE: join(dir, 'master.key'),
        },
      },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    )
    const deadline = Date.now() + 20_000
    let url: string | undefined
    while (!url && Date.now() < deadline) {
      url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1]
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(url, out).toBeDefined()
    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', role: 'core' })
    expect(out).not.toContain(Buffer.alloc(32, 3).toString('base64'))
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(out).toContain('"msg":"stopped"')
  })

  it('stops on SIGTERM sent to `npm run kaguan -- start` (the wrapper relays it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaguan-npm-start-'))
    writeFileSync(join(dir, 'master.key'), Buffer.alloc(32, 4).toString('base64'))
    const npm = spawn('npm', ['run', '--silent', 'kaguan', '--', 'start', '--role', 'core'], {
      cwd: root,
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
        ),
        KAGUAN_CORE_PORT: '0',
        KAGUAN_DATA_DIR: dir,
        KAGUAN_MASTER_KEY_FILE: join(dir, 'master.key'),
      },
    })
    let out = ''
    npm.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)))
    const deadline = Date.now() + 30_000
    let url: string | undefined
    while (!url && Date.now() < deadline) {
      url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1]
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(url, out).toBeDefined()
    npm.kill('SIGTERM')
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('still running'), 15_000)),
    ])
    expect(code).not.toBe('still running')
    await expect(fetch(`${url}/healthz`)).rejects.toThrow() // the port is closed: kaguan stopped
    expect(out).toContain('"msg":"stopped"')
  }, 60_000)
})
