import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSampleCrm, type SampleCrm } from '@kaguan/sample-crm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatCrmCheck } from '../../src/cli/commands/crm-check.js'
import {
  checkCrm,
  CheckStatus,
  createCrmPort,
  type CrmCheckReport,
} from '../../src/modules/crm/index.js'

const root = new URL('../../../../', import.meta.url).pathname
const main = join(root, 'packages/server/src/cli/main.ts')
const TOKEN = 'crm-check-secret-7f3a9c'

const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
})

/** Faults a deliberately broken CRM can have; with none it follows the contract. */
interface Faults {
  anyToken?: boolean
  html?: boolean
  pointMany?: boolean
  newCardEachCall?: boolean
  /** cardChange answers `{"ok":true,"token":…}` (echoing the token, to test redaction). */
  changeObject?: boolean
  /** codeExpire as this text, or computed by this function. */
  codeExpire?: string | ((expireSeconds: number) => string)
  /** Delay of the first valid openCardInfo (the one that registers the member). */
  slowFirstOpenMs?: number
}

interface FakeCrm {
  url: string
  close(): Promise<void>
}

const chinaTime = (ms: number) =>
  new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ')

/** A CRM written with bare `node:http`, conforming except for the given faults. */
async function fakeCrm(faults: Faults = {}): Promise<FakeCrm> {
  const members = new Map<string, string>()
  let issued = 0
  let openCalls = 0
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }
  async function handle(req: IncomingMessage, res: ServerResponse) {
    let text = ''
    for await (const chunk of req) {
      text += String(chunk)
    }
    if (!faults.anyToken && req.headers.token !== TOKEN) {
      return send(res, 401, { status: 'FAIL' })
    }
    let body: Record<string, unknown>
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      return send(res, 400, { status: 'FAIL', errmsg: 'not JSON' })
    }
    const user = body.alipayUserId
    if (typeof user !== 'string') {
      return send(res, 400, { status: 'FAIL', field: 'alipayUserId' })
    }
    if (faults.html) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>登录</body></html>')
      return
    }
    switch (req.url) {
      case '/card/openCardInfo': {
        openCalls += 1
        if (openCalls === 1 && faults.slowFirstOpenMs) {
          await new Promise((resolve) => setTimeout(resolve, faults.slowFirstOpenMs))
        }
        let card = members.get(user)
        if (!card || faults.newCardEachCall) {
          card = `FAKE${String(++issued).padStart(6, '0')}`
          members.set(user, card)
        }
        return send(res, 200, {
          bizCardNo: card,
          point: faults.pointMany ? 'many' : 5,
          level: 'V1',
        })
      }
      case '/card/cardChange':
        return send(res, 200, faults.changeObject ? { ok: true, token: req.headers.token } : true)
      case '/card/mdCodeChange': {
        const seconds = Number(body.expireTime)
        const expire = faults.codeExpire ?? chinaTime(Date.now() + seconds * 1000)
        const codeExpire = typeof expire === 'function' ? expire(seconds) : expire
        return send(res, 200, { alipayUserId: user, codeValue: '880000000000000001', codeExpire })
      }
      default:
        return send(res, 404, { status: 'FAIL' })
    }
  }
  const server = createServer((req, res) => void handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

async function checkFake(faults: Faults, timeoutMs = 5_000, publicKey?: string) {
  const crm = await fakeCrm(faults)
  try {
    return await checkCrm(createCrmPort(), {
      baseUrl: crm.url,
      token: TOKEN,
      timeoutMs,
      ...(publicKey ? { publicKey } : {}),
    })
  } finally {
    await crm.close()
  }
}

const idsWith = (report: CrmCheckReport, status: CheckStatus) =>
  report.checks.filter((c) => c.status === status).map((c) => c.id)
const row = (report: CrmCheckReport, id: string) => report.checks.find((c) => c.id === id)

const ALL_IDS = [
  'open.answer',
  'open.latency',
  'open.types',
  'open.idempotent',
  'open.token-wrong',
  'open.token-missing',
  'open.no-user',
  'open.not-json',
  'change.add',
  'change.add-again',
  'change.del',
  'change.token-wrong',
  'mdcode.answer',
  'mdcode.expire',
  'mdcode.echo',
  'mdcode.token-wrong',
]

describe('checkCrm against the real sample CRM', () => {
  let crm: SampleCrm
  beforeAll(async () => {
    crm = await startSampleCrm({
      port: 0,
      token: TOKEN,
      privateKey: keys.privateKey,
      kaguanCoreUrl: 'http://127.0.0.1:9',
    })
  })
  afterAll(() => crm.close())

  it('passes every check, registers one member and reports no token', async () => {
    const report = await checkCrm(createCrmPort(), {
      baseUrl: `${crm.url}/`,
      token: TOKEN,
      timeoutMs: 5_000,
      publicKey: keys.publicKey,
    })
    expect(report.checks.map((c) => c.id)).toEqual([...ALL_IDS, 'key.rsa'])
    expect(idsWith(report, CheckStatus.Pass)).toEqual([...ALL_IDS, 'key.rsa'])
    expect(report).toMatchObject({ ok: true, failed: 0, warnings: 0, skipped: 0, passed: 17 })
    expect(report.probeUserId).toMatch(/^2088\d{12}$/)
    // The sample CRM saw the probe: one member, opened then deleted by the checker's cardChange calls.
    const opened = crm.requests.filter(
      (r) =>
        r.path === '/card/openCardInfo' &&
        (r.body as { alipayUserId?: string }).alipayUserId === report.probeUserId,
    )
    expect(opened.length).toBeGreaterThanOrEqual(3)
    expect(row(report, 'key.rsa')?.detail).toContain('RSA 2048 bits')
    expect(report.signingHint?.join('\n')).toContain('docs/crm-integration.md appendix A')
    expect(JSON.stringify(report)).not.toContain(TOKEN)

    const table = formatCrmCheck(report, 5_000)
    expect(table).toMatch(
      /^✓ {2}open\.idempotent +\/card\/openCardInfo +重复调用 same member +3 calls/m,
    )
    expect(table.trimEnd().split('\n').at(-1)).toBe('17 passed, 0 failed, 0 warnings')
    expect(table).not.toContain('fix:')
  })

  it("fails a level the merchant's templates do not define and warns while strict mode is off", async () => {
    const report = await checkCrm(createCrmPort(), {
      baseUrl: crm.url,
      token: TOKEN,
      timeoutMs: 5_000,
      levelCodes: ['VIP1', 'VIP2'],
      replayStrict: false,
    })
    expect(row(report, 'open.level')).toMatchObject({ status: 'fail' })
    expect(row(report, 'open.level')?.detail).toContain('"SILVER"')
    expect(row(report, 'open.level')?.fix).toContain('VIP1, VIP2')
    expect(row(report, 'core.replay')).toMatchObject({ status: 'warn' })
    expect(report.ok).toBe(false)
    const known = await checkCrm(createCrmPort(), {
      baseUrl: crm.url,
      token: TOKEN,
      timeoutMs: 5_000,
      levelCodes: ['SILVER', 'GOLD'],
      replayStrict: true,
    })
    expect(row(known, 'open.level')).toMatchObject({ status: 'pass' })
    expect(row(known, 'core.replay')).toMatchObject({ status: 'pass' })
  })
})

describe('checkCrm against broken CRMs', () => {
  it('passes a conforming bare node:http CRM (the baseline the faults below break)', async () => {
    const report = await checkFake({})
    expect(idsWith(report, CheckStatus.Pass)).toEqual(ALL_IDS)
  })

  it('fails every token row when the CRM accepts any token', async () => {
    const report = await checkFake({ anyToken: true })
    expect(idsWith(report, CheckStatus.Fail)).toEqual([
      'open.token-wrong',
      'open.token-missing',
      'change.token-wrong',
      'mdcode.token-wrong',
    ])
    expect(row(report, 'open.token-wrong')?.fix).toContain(
      'the CRM must check the token header in constant time',
    )
    expect(row(report, 'open.token-missing')?.detail).toContain('accepted (HTTP 200)')
  })

  it('fails the answers and skips what needs them when the CRM answers HTML', async () => {
    const report = await checkFake({ html: true })
    expect(idsWith(report, CheckStatus.Fail)).toEqual(['open.answer', 'mdcode.answer'])
    expect(row(report, 'open.answer')?.detail).toContain('HTML')
    expect(row(report, 'open.answer')?.fix).toContain('not an HTML or error page')
    expect(idsWith(report, CheckStatus.Skip)).toEqual([
      'open.types',
      'open.idempotent',
      'change.add',
      'change.add-again',
      'change.del',
      'mdcode.expire',
      'mdcode.echo',
    ])
    expect(formatCrmCheck(report, 5_000)).toContain('2 failed, 0 warnings, 7 skipped')
  })

  it('fails only the answer row for point "many", and still judges idempotency', async () => {
    const report = await checkFake({ pointMany: true })
    expect(idsWith(report, CheckStatus.Fail)).toEqual(['open.answer'])
    expect(row(report, 'open.answer')?.detail).toContain('point "many"')
    expect(row(report, 'open.answer')?.fix).toContain('whole number ≥ 0')
    expect(row(report, 'open.idempotent')?.status).toBe(CheckStatus.Pass)
  })

  it('fails idempotency when every call registers a new member', async () => {
    const report = await checkFake({ newCardEachCall: true })
    expect(idsWith(report, CheckStatus.Fail)).toEqual(['open.idempotent'])
    expect(row(report, 'open.idempotent')?.detail).toContain('FAKE000001, FAKE000002')
    expect(row(report, 'open.idempotent')?.fix).toBe(
      'look the member up by alipayUserId before creating one',
    )
  })

  it('fails the cardChange rows for an object answer and keeps the echoed token out', async () => {
    const report = await checkFake({ changeObject: true })
    expect(idsWith(report, CheckStatus.Fail)).toEqual([
      'change.add',
      'change.add-again',
      'change.del',
    ])
    expect(row(report, 'change.add')?.fix).toContain('JSON body true')
    // The CRM echoed the token into its answer, which kaguan's error message quotes.
    expect(row(report, 'change.add')?.detail).toContain('"token":"***')
    expect(JSON.stringify(report)).not.toContain(TOKEN)
    expect(formatCrmCheck(report, 5_000)).not.toContain(TOKEN)
  })

  it('fails codeExpire that is not a real time, in UTC, or not the contract format', async () => {
    const impossible = await checkFake({ codeExpire: '2030-13-45 25:61:00' })
    expect(idsWith(impossible, CheckStatus.Fail)).toEqual(['mdcode.expire'])
    expect(row(impossible, 'mdcode.expire')?.detail).toContain('not a real date')

    const utc = await checkFake({
      codeExpire: (s) =>
        new Date(Date.now() + s * 1000).toISOString().slice(0, 19).replace('T', ' '),
    })
    expect(idsWith(utc, CheckStatus.Fail)).toEqual(['mdcode.expire'])
    expect(row(utc, 'mdcode.expire')?.detail).toContain('looks like UTC')

    const tooLong = await checkFake({
      codeExpire: (s) => chinaTime(Date.now() + s * 1000 + 3600_000),
    })
    expect(row(tooLong, 'mdcode.expire')).toMatchObject({ status: CheckStatus.Fail })
    expect(row(tooLong, 'mdcode.expire')?.detail).toContain('more than expireTime + 60 s')

    const slashes = await checkFake({ codeExpire: '2030/01/01 12:00' })
    expect(idsWith(slashes, CheckStatus.Fail)).toEqual(['mdcode.answer'])
    expect(row(slashes, 'mdcode.answer')?.fix).toContain('yyyy-MM-dd HH:mm:ss')
    expect(row(slashes, 'mdcode.expire')?.status).toBe(CheckStatus.Skip)
  })

  it('fails latency over 3 s, warns over 1 s, and reports a timeout', async () => {
    const slow = await checkFake({ slowFirstOpenMs: 3_500 }, 5_000)
    expect(idsWith(slow, CheckStatus.Fail)).toEqual(['open.latency'])
    expect(row(slow, 'open.latency')?.ms).toBeGreaterThanOrEqual(3_500)
    expect(row(slow, 'open.latency')?.fix).toContain('within 1 s')

    const sluggish = await checkFake({ slowFirstOpenMs: 1_200 }, 5_000)
    expect(idsWith(sluggish, CheckStatus.Warn)).toEqual(['open.latency'])
    expect(sluggish.ok).toBe(true)

    const timeout = await checkFake({ slowFirstOpenMs: 1_500 }, 500)
    expect(idsWith(timeout, CheckStatus.Fail)).toEqual(['open.answer', 'open.latency'])
    expect(row(timeout, 'open.answer')?.detail).toContain('CRM_TIMEOUT')
    expect(row(timeout, 'open.latency')?.detail).toBe('no answer within 500 ms')
  }, 30_000)

  it('reports an unreachable CRM in one row', async () => {
    const gone = await fakeCrm()
    await gone.close()
    const report = await checkCrm(createCrmPort(), {
      baseUrl: gone.url,
      token: TOKEN,
      timeoutMs: 2_000,
    })
    expect(report.checks).toHaveLength(1)
    expect(report.checks[0]).toMatchObject({ id: 'open.answer', status: CheckStatus.Fail })
    expect(report.checks[0]?.fix).toContain('check the URL')
  })

  it('judges the public key: a short one warns, a private key or garbage fails', async () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const shortBase64 = short.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
    const warned = await checkFake({}, 5_000, shortBase64)
    expect(row(warned, 'key.rsa')).toMatchObject({ status: CheckStatus.Warn })
    expect(row(warned, 'key.rsa')?.detail).toContain('RSA 1024 bits')
    expect(warned.ok).toBe(true)

    const leaked = await checkFake({}, 5_000, keys.privateKey)
    expect(row(leaked, 'key.rsa')?.status).toBe(CheckStatus.Fail)
    expect(row(leaked, 'key.rsa')?.detail).toContain('PRIVATE key')
    expect(JSON.stringify(leaked)).not.toContain(keys.privateKey.split('\n')[1])

    const garbage = await checkFake({}, 5_000, 'not-a-key')
    expect(row(garbage, 'key.rsa')?.status).toBe(CheckStatus.Fail)
  })
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the real `kaguan` CLI as npm's scripts do (tsx, sources). */
function kaguan(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@kaguan/source', '--import', 'tsx', main, ...args],
      { cwd: root, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    )
  })
}

describe('kaguan crm-check (the real CLI process)', () => {
  it('exits 0 for the sample CRM, 1 for a broken one, 2 without --token; never prints the token', async () => {
    const crm = await startSampleCrm({
      port: 0,
      token: TOKEN,
      privateKey: keys.privateKey,
      kaguanCoreUrl: 'http://127.0.0.1:9',
    })
    const broken = await fakeCrm({ newCardEachCall: true, changeObject: true })
    const keyFile = join(mkdtempSync(join(tmpdir(), 'kaguan-crm-check-')), 'crm-public.pem')
    writeFileSync(keyFile, keys.publicKey)
    try {
      const [good, bad, json, noToken] = await Promise.all([
        kaguan(['crm-check', '--url', crm.url, '--token', TOKEN, '--public-key', keyFile]),
        kaguan(['crm-check', '--url', broken.url, '--token', TOKEN, '--timeout-ms', '3000']),
        kaguan(['crm-check', '--url', broken.url, '--token', TOKEN, '--json']),
        kaguan(['crm-check', '--url', crm.url]),
      ])
      expect(good.code, good.stderr).toBe(0)
      expect(good.stdout).toContain('✓  key.rsa')
      expect(good.stdout).toMatch(/\n17 passed, 0 failed, 0 warnings\n$/)

      expect(bad.code).toBe(1)
      expect(bad.stdout).toContain('(timeout 3000 ms')
      expect(bad.stdout).toMatch(
        /^✗ {2}open\.idempotent .*\n {3}修复 fix: look the member up by alipayUserId before creating one$/m,
      )
      expect(bad.stdout).toMatch(/\n12 passed, 4 failed, 0 warnings\n$/)

      expect(json.code).toBe(1)
      const report = JSON.parse(json.stdout) as CrmCheckReport
      expect(report).toMatchObject({ ok: false, failed: 4, url: broken.url })

      expect(noToken.code).toBe(2)
      expect(noToken.stderr).toContain('--token is required')

      for (const run of [good, bad, json, noToken]) {
        expect(run.stdout + run.stderr).not.toContain(TOKEN)
      }
    } finally {
      await crm.close()
      await broken.close()
    }
  }, 60_000)
})
