/**
 * Vitest global setup: finds a PostgreSQL server for the database tests, so they run on every
 * available dialect. In order:
 *  1. KAGUAN_TEST_PG_URL, a server someone started (CI does);
 *  2. PostgreSQL binaries on this machine (PATH or Debian's /usr/lib/postgresql/<v>/bin): a throwaway
 *     cluster in a temporary folder on a free 127.0.0.1 port, removed afterwards;
 *  3. none: PostgreSQL tests are skipped, and the run says so. KAGUAN_TEST_REQUIRE_PG=1 makes that an error.
 * The URL reaches the tests as process.env.KAGUAN_TEST_PG_URL (test workers inherit it).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, chmodSync, chownSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

let server: ChildProcess | undefined
let dataDir: string | undefined
let stopCluster: (() => void) | undefined

export async function setup(): Promise<void> {
  const given = process.env.KAGUAN_TEST_PG_URL
  if (given) {
    await waitUntilReachable(given, 5_000)
    report(`postgres (KAGUAN_TEST_PG_URL ${redact(given)})`)
    return
  }
  const bin = findPostgresBin()
  if (!bin) {
    if (process.env.KAGUAN_TEST_REQUIRE_PG === '1') {
      throw new Error(
        'KAGUAN_TEST_REQUIRE_PG=1 but no PostgreSQL server (KAGUAN_TEST_PG_URL) or binaries were found',
      )
    }
    report('sqlite only (no PostgreSQL server or binaries found; set KAGUAN_TEST_PG_URL to add it)')
    return
  }
  const url = await startThrowawayCluster(bin)
  process.env.KAGUAN_TEST_PG_URL = url
  report(`postgres (throwaway cluster from ${bin})`)
}

export async function teardown(): Promise<void> {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve))
    // runuser does not pass signals on, so ask pg_ctl; bounded, then force.
    try {
      stopCluster?.()
    } catch {
      server.kill('SIGKILL')
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
  }
  if (dataDir) {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

function report(what: string): void {
  console.log(
    `\n[kaguan] database tests run on: sqlite + ${what}\n`.replace(
      'sqlite + sqlite only',
      'sqlite only',
    ),
  )
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}

export function findPostgresBin(): string | undefined {
  const candidates: string[] = []
  for (const dir of (process.env.PATH ?? '').split(':')) {
    candidates.push(dir)
  }
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
    for (const v of versions) {
      candidates.push(`/usr/lib/postgresql/${v}/bin`)
    }
  }
  return candidates.find(
    (dir) =>
      dir &&
      existsSync(join(dir, 'initdb')) &&
      existsSync(join(dir, 'postgres')) &&
      existsSync(join(dir, 'pg_ctl')),
  )
}

/**
 * Starts a cluster in a temporary folder on a free 127.0.0.1 port (stopped by {@link teardown}).
 * Tests run it without fsync (nothing to keep); the benchmarks pass `durable` to measure it as
 * deployed, fsync on.
 */
export async function startThrowawayCluster(
  bin: string,
  options: { durable?: boolean } = {},
): Promise<string> {
  dataDir = mkdtempSync(join(tmpdir(), 'kaguan-pg-'))
  const port = await freePort()
  // PostgreSQL refuses to run as root; Debian's package creates the postgres user for this.
  const asRoot = userInfo().uid === 0
  const run = (cmd: string, args: string[]) =>
    (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [
      string,
      string[],
    ]
  if (asRoot) {
    chmodSync(dataDir, 0o700)
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
    chownSync(dataDir, uid, gid)
  }
  const [initCmd, initArgs] = run(join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'kaguan',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-locale',
  ])
  execFileSync(initCmd, initArgs, { stdio: 'ignore' })
  const [cmd, args] = run(join(bin, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-k',
    dataDir,
    ...(options.durable
      ? []
      : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    '-c',
    'max_connections=200',
  ])
  server = spawn(cmd, args, { stdio: 'ignore' })
  const [stopCmd, stopArgs] = run(join(bin, 'pg_ctl'), [
    'stop',
    '-D',
    dataDir,
    '-m',
    'immediate',
    '-w',
    '-t',
    '10',
  ])
  stopCluster = () => execFileSync(stopCmd, stopArgs, { stdio: 'ignore', timeout: 15_000 })
  const url = `postgres://kaguan@127.0.0.1:${port}/postgres`
  await waitUntilReachable(url, 30_000)
  return url
}

async function waitUntilReachable(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const client = new pg.Client({ connectionString: url })
    try {
      await client.connect()
      await client.query('select 1')
      await client.end()
      return
    } catch (error) {
      await client.end().catch(() => {})
      if (Date.now() > deadline) {
        throw new Error(
          `PostgreSQL at ${redact(url)} is not reachable: ${(error as Error).message}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}
