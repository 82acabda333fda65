/**
 * `npm run bench`: kaguan's benchmark suite (not part of `npm test`). Everything runs on 127.0.0.1
 * in a temporary folder: the emulator and a minimal CRM (one process), kaguan with every role
 * (another), SQLite and — when PostgreSQL binaries are found — a throwaway PostgreSQL cluster with
 * fsync on. Each scenario has a bounded count and a time cap. The references are measured in the
 * same run on the same machine: a bare Fastify JSON POST route under the same load generator, and
 * Node's RSA-2048 sign rate on one core. See bench/README.md for what each figure means.
 *
 *   npm run bench [-- --members 1000000] [--dialects sqlite,postgres] [--quick] [--pool-size 20]
 */
import autocannon from 'autocannon'
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { generateKeyPair, signParams, toPrivateKey, withReplayGuard } from '@kaguan/crm-sdk'
import { findPostgresBin, startThrowawayCluster, teardown } from '../scripts/test-postgres.js'
import { generateMasterKey } from '../packages/server/src/shared/field-crypto.js'
import { generateRsaKeyPair } from '../packages/server/src/shared/rsa-keys.js'
import { cpuMsOf, rssOf, startChild, type Child } from './lib/ipc.js'
import { cloneCardId, cloneNumbers } from './lib/numbers.js'

const { values: flags } = parseArgs({
  options: {
    members: { type: 'string', default: '20000' },
    dialects: { type: 'string', default: 'sqlite,postgres' },
    quick: { type: 'boolean', default: false },
    connections: { type: 'string', default: '32' },
    /** KAGUAN_DATABASE_POOL_SIZE for kaguan (PostgreSQL connections); kaguan's default when absent. */
    'pool-size': { type: 'string' },
    /** A folder: kaguan runs with --cpu-prof and writes its profiles there. */
    profile: { type: 'string' },
    /** Only these scenarios (comma-separated: throughput, sync, hot, claim, search); all when absent. */
    scenarios: { type: 'string', default: 'throughput,sync,hot,claim,search' },
  },
})
const SCENARIOS = new Set(flags.scenarios!.split(',').map((s) => s.trim()))
const want = (scenario: 'throughput' | 'sync' | 'hot' | 'claim' | 'search') =>
  SCENARIOS.has(scenario)
const MEMBERS = Number(flags.members)
const CONNECTIONS = Number(flags.connections)
const q = flags.quick ? 0.25 : 1
/** Counts and time caps of the scenarios (the caps bound a slow machine; counts bound a fast one). */
const PLAN = {
  throughput: { count: Math.round(12_000 * q), capMs: 8_000 },
  halfLoad: { capMs: 5_000 },
  sync: { count: Math.round(2_000 * q), capMs: 30_000 },
  hot: { cards: 1_000, count: Math.round(10_000 * q), capMs: 20_000, zipf: 1.1 },
  claims: { warmUp: 20, count: Math.round(20 * q) },
  search: { capMs: 3_000, connections: 4 },
  drainCapMs: 60_000,
}
if (MEMBERS < 300 + PLAN.throughput.count + PLAN.sync.count + PLAN.hot.cards) {
  throw new Error(
    `--members must be at least ${300 + PLAN.throughput.count + PLAN.sync.count + PLAN.hot.cards}`,
  )
}

const root = mkdtempSync(join(tmpdir(), 'kaguan-bench-'))
const children: Child[] = []
const log = (...args: unknown[]) => console.error('[bench]', ...args)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------------------
// references

/** RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second on one core (a KeyObject, like openssl speed). */
function rsaSignRate(ms = 1_500): number {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const data = Buffer.from(
    'biz_content={"target_card_no":"EM000000001"}&method=alipay.marketing.card.update',
  )
  const end = performance.now() + ms
  let n = 0
  const start = performance.now()
  while (performance.now() < end) {
    sign('sha256', data, privateKey)
    n++
  }
  return n / ((performance.now() - start) / 1000)
}

interface LoadResult {
  okPerSec: number
  ok: number
  errors: number
  p50: number
  p99: number
  seconds: number
  peakRssMb?: number
  /** CPU ms the measured process spent per OK answer. */
  cpuMsPerOk: number
}

/** One autocannon run over pre-built bodies, each sent once (or cycled when `cycle`). */
async function load(
  url: string,
  bodies: string[],
  options: {
    capMs: number
    connections?: number
    rate?: number
    cycle?: boolean
    expectOk?: boolean
    rssPid?: number
    /** The process whose CPU time per OK answer is reported. */
    cpuPid?: number
    method?: 'POST' | 'GET'
    paths?: string[]
    headers?: Record<string, string>
  },
): Promise<LoadResult> {
  let i = 0
  let peak = 0
  let notOk = 0
  let firstFailure: string | undefined
  const sampler = options.rssPid
    ? setInterval(() => {
        peak = Math.max(peak, rssOf(options.rssPid!)?.rssMb ?? 0)
      }, 250)
    : undefined
  const n = options.paths ? options.paths.length : bodies.length
  const cpu0 = options.cpuPid ? cpuMsOf(options.cpuPid) : NaN
  let timer: NodeJS.Timeout | undefined
  let instance: autocannon.Instance | undefined
  // Timed here, to the last answer: with `amount`, autocannon ends its run on its next whole-second
  // tick (3,000 answers in 3.1 s would read as 3,000 in 4 s).
  const t0 = performance.now()
  let lastAnswerAt = t0
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections: options.connections ?? CONNECTIONS,
        ...(options.cycle ? { duration: options.capMs / 1000 } : { amount: n }),
        ...(options.rate ? { overallRate: options.rate } : {}),
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        timeout: 30,
        requests: [
          {
            setupRequest: (req: autocannon.Request) => {
              const k = i++ % n
              return options.paths
                ? { ...req, path: options.paths[k] }
                : { ...req, body: bodies[k] }
            },
            onResponse: (status: number, body: string) => {
              lastAnswerAt = performance.now()
              if (options.expectOk && status < 300 && body !== '{"status":"OK"}') {
                notOk++
                firstFailure ??= body
              }
            },
          },
        ],
      } as autocannon.Options,
      (error, r) => (error ? reject(error) : resolve(r)),
    )
    timer = setTimeout(() => instance?.stop(), options.capMs)
  })
  const seconds = ((options.cycle ? performance.now() : lastAnswerAt) - t0) / 1000
  clearTimeout(timer)
  if (sampler) {
    clearInterval(sampler)
  }
  const r = result
  const ok = r['2xx'] - notOk
  if (firstFailure !== undefined || r.non2xx) {
    log(
      `${url}: ${notOk} answers not OK, ${r.non2xx} non-2xx; first: ${firstFailure ?? '(status only)'}`,
    )
  }
  return {
    okPerSec: ok / seconds,
    ok,
    errors: r.non2xx + r.errors + r.timeouts + notOk,
    p50: r.latency.p50,
    p99: r.latency.p99,
    seconds,
    ...(sampler ? { peakRssMb: peak } : {}),
    cpuMsPerOk: options.cpuPid ? (cpuMsOf(options.cpuPid) - cpu0) / Math.max(1, ok) : NaN,
  }
}

// ---------------------------------------------------------------------------------------------
// a kaguan stack

interface Stack {
  dialect: 'sqlite' | 'postgres'
  launch: KaguanLaunch
  kaguan: Child
  peers: Child
  urls: { management: string; mini: string; core: string }
  emulatorUrl: string
  cookie: string
  templateId: string
  crmKey: ReturnType<typeof toPrivateKey>
  claimUrl: string
  loadSeconds: number
  idleRssMb: number
}

async function json<T>(url: string, method: string, body?: unknown, headers = {}): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  if (res.status >= 300) {
    throw new Error(`${method} ${url}: ${res.status} ${text}`)
  }
  return (text ? JSON.parse(text) : undefined) as T
}

const ALL_ROLES = 'management,mini,core,worker'

interface KaguanLaunch {
  dir: string
  databaseUrl: string
  masterKey: string
  roles: string
  /** The ports of an earlier start: the emulator knows kaguan's URLs. */
  ports?: { management: string; mini: string; core: string }
}

async function startKaguanChild(launch: KaguanLaunch): Promise<Child> {
  const kaguan = await startChild(
    'kaguan.ts',
    {
      BENCH_DIR: launch.dir,
      KAGUAN_ROLES: launch.roles,
      KAGUAN_HOST: '127.0.0.1',
      KAGUAN_MANAGEMENT_PORT: launch.ports?.management ?? '0',
      KAGUAN_MINI_PORT: launch.ports?.mini ?? '0',
      KAGUAN_CORE_PORT: launch.ports?.core ?? '0',
      KAGUAN_DATABASE_URL: launch.databaseUrl,
      KAGUAN_DATA_DIR: launch.dir,
      KAGUAN_MASTER_KEY: launch.masterKey,
      KAGUAN_LOG_LEVEL: 'info',
      // Pacing off: the bench measures what kaguan can push, not the conservative default pace.
      KAGUAN_ALIPAY_CALLS_PER_SECOND: '10000',
      ...(flags['pool-size'] ? { KAGUAN_DATABASE_POOL_SIZE: flags['pool-size'] } : {}),
    },
    flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${flags.profile}`] : [],
  )
  children.push(kaguan)
  return kaguan
}

/** kaguan stopped and started again on the same database and ports, with these roles. */
async function restartKaguan(stack: Stack, roles: string): Promise<void> {
  await stack.kaguan.stop()
  children.splice(children.indexOf(stack.kaguan), 1)
  const port = (url: string) => new URL(url).port
  stack.kaguan = await startKaguanChild({
    ...stack.launch,
    roles,
    ports: {
      management: port(stack.urls.management),
      mini: port(stack.urls.mini),
      core: port(stack.urls.core),
    },
  })
}

async function startStack(dialect: 'sqlite' | 'postgres', databaseUrl: string): Promise<Stack> {
  const dir = join(root, dialect)
  mkdirSync(dir, { recursive: true })
  const crmToken = randomBytes(12).toString('hex')
  const peers = await startChild('peers.ts', { BENCH_DIR: dir, BENCH_CRM_TOKEN: crmToken }, [
    '--max-old-space-size=2048',
  ])
  children.push(peers)
  const { emulatorUrl, crmUrl } = peers.ready as { emulatorUrl: string; crmUrl: string }
  const masterKey = generateMasterKey()
  const kaguan = await startKaguanChild({ dir, databaseUrl, masterKey, roles: ALL_ROLES })
  const { urls, admin } = kaguan.ready as {
    urls: Stack['urls']
    admin: { username: string; password: string }
  }

  const appKeys = generateRsaKeyPair()
  const appId = '2021000000000001'
  const { alipayPublicKey } = await json<{ alipayPublicKey: string }>(
    `${emulatorUrl}/__emulator/apps`,
    'POST',
    {
      appId,
      appPublicKey: appKeys.publicKeyBase64,
      gatewayUrl: `${urls.mini}/alipay/gateway`,
      callbackUrls: [`${urls.mini}/aliCallback`],
      products: ['member_card', 'koubei'],
    },
  )
  const login = await fetch(`${urls.management}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  })
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
  const { csrfToken } = (await login.json()) as { csrfToken: string }
  const api = <T = { id: string }>(method: string, path: string, body?: unknown) =>
    json<T>(`${urls.management}${path}`, method, body, { cookie, 'x-csrf-token': csrfToken })

  const crmKeys = generateKeyPair()
  await api('PUT', '/api/merchants/mch_default/alipay', {
    appId,
    privateKey: appKeys.privateKeyPem,
    alipayPublicKey,
    gateway: `${emulatorUrl}/gateway.do`,
  })
  await api('PUT', '/api/merchants/mch_default/public-url', { publicBaseUrl: urls.mini })
  await api('PUT', '/api/merchants/mch_default/crm', {
    mode: 'crm',
    baseUrl: crmUrl,
    token: crmToken,
    publicKey: crmKeys.publicKey,
  })
  const image = (name: string) =>
    readFileSync(new URL(`../packages/server/test/fixtures/${name}`, import.meta.url)).toString(
      'base64',
    )
  const logo = await api('POST', '/api/merchants/mch_default/images', {
    name: 'logo',
    type: 'png',
    contentBase64: image('logo.png'),
  })
  const bg = await api('POST', '/api/merchants/mch_default/images', {
    name: 'bg',
    type: 'png',
    contentBase64: image('background.png'),
  })
  const created = await api('POST', '/api/merchants/mch_default/templates', {
    spec: {
      basic: { name: '基准会员卡', validity: { type: 'permanent' }, shopIds: [] },
      style: {
        logoImageId: logo.id,
        backgroundImageId: bg.id,
        fontColor: '#FFFFFF',
        backgroundColor: '#333333',
        code: { type: 'qr' },
      },
      columns: [
        { kind: 'point', title: '积分' },
        { kind: 'level', title: '等级' },
      ],
      levels: [
        { code: 'SILVER', name: '银卡' },
        { code: 'GOLD', name: '金卡' },
      ],
      actions: [],
      form: { fields: [{ field: 'mobile', required: true }] },
      defaults: { point: 0, level: 'SILVER' },
    },
  })
  const published = await api<{ template: { alipayTemplateId: string } }>(
    'POST',
    `/api/templates/${created.id}/publish`,
  )
  const link = await api<{ url: string }>('POST', `/api/templates/${created.id}/claim-links`, {
    outString: 'bench',
  })

  const stack: Stack = {
    dialect,
    launch: { dir, databaseUrl, masterKey, roles: ALL_ROLES },
    kaguan,
    peers,
    urls,
    emulatorUrl,
    cookie,
    templateId: published.template.alipayTemplateId,
    crmKey: toPrivateKey(crmKeys.privateKey),
    claimUrl: link.url,
    loadSeconds: 0,
    idleRssMb: 0,
  }
  // One real claim: the row the bulk loader copies (kaguan's and the emulator's).
  await claim(stack, '13800000000')
  // The list is paged ({ items, total, … }) since the console API; a plain array before.
  type Found = { cards: { id: string; alipayCardNo: string }[] }
  const found = await api<Found[] | { items: Found[] }>(
    'GET',
    '/api/merchants/mch_default/members?bizCardNo=CRM000000001',
  )
  const seed = (Array.isArray(found) ? found : found.items)[0]!.cards[0]!
  const t0 = performance.now()
  for (let from = 0; from < MEMBERS; from += 100_000) {
    const count = Math.min(100_000, MEMBERS - from)
    await Promise.all([
      kaguan.call('bulkLoad', { cardId: seed.id, from, count }),
      peers.call('cloneCards', { alipayCardNo: seed.alipayCardNo, from, count }),
    ])
  }
  await kaguan.call('analyze')
  stack.loadSeconds = (performance.now() - t0) / 1000
  log(`${dialect}: ${MEMBERS} members and cards loaded in ${stack.loadSeconds.toFixed(1)} s`)
  // The loader ran inside kaguan's process (its database handle): what its heap kept from a million
  // rows built in JavaScript is the bench's, not kaguan's. A restart serves the data as a deployed
  // kaguan would after an import.
  await restartKaguan(stack, ALL_ROLES)
  await sleep(1_000)
  stack.idleRssMb = rssOf(stack.kaguan.pid)?.rssMb ?? NaN
  return stack
}

async function claim(stack: Stack, mobile: string): Promise<void> {
  const { userId } = await json<{ userId: string }>(
    `${stack.emulatorUrl}/__emulator/users`,
    'POST',
    {
      name: '基准',
      mobile,
    },
  )
  const res = await json<{ status: number; body: string }>(
    `${stack.emulatorUrl}/__emulator/claim`,
    'POST',
    {
      userId,
      applyCardUrl: stack.claimUrl,
      form: { OPEN_FORM_FIELD_MOBILE: mobile },
    },
  )
  if (res.status >= 400) {
    throw new Error(`claim failed: ${res.status} ${res.body}`)
  }
}

/** Signed `/card/update` bodies for bulk-loaded cards `indices`, points `point(j)`. */
function signedBodies(stack: Stack, indices: number[], point: (j: number) => number): string[] {
  return indices.map((i, j) => {
    const params = withReplayGuard({
      templateId: stack.templateId,
      bizCardNo: cloneNumbers(i)[0],
      point: String(point(j)),
      changeReason: 'bench',
    })
    return JSON.stringify({ ...params, sign: signParams(params, stack.crmKey) })
  })
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, k) => from + k)

/** Waits until the outbox has nothing pending or running; the seconds it took. */
async function drain(stack: Stack): Promise<number> {
  const t0 = performance.now()
  const deadline = Date.now() + PLAN.drainCapMs
  for (;;) {
    const counts = await stack.kaguan.call<Record<string, number>>('outbox')
    if (!(counts.pending ?? 0) && !(counts.running ?? 0)) {
      return (performance.now() - t0) / 1000
    }
    if (Date.now() > deadline) {
      log(`${stack.dialect}: outbox not drained after ${PLAN.drainCapMs} ms`, counts)
      return NaN
    }
    await sleep(100)
  }
}

// ---------------------------------------------------------------------------------------------
// scenarios

interface Figures {
  refs: References
  throughput: LoadResult
  halfLoad: LoadResult
  /** The same throughput load with kaguan's worker not running. */
  intake: LoadResult
  syncPerSec: number
  /** kaguan's CPU per card: accepting its update and pushing it. */
  syncCpuMsPerCard: number
  hot: {
    calls: number
    accepted: number
    perUpdate: number
    showSeconds: number
    lastWins: boolean
  }
  claim: { totalMs: number; waitMs: number; ownMs: number; cpuMs: number }
  search: LoadResult
  idleRssMb: number
  loadRssMb: number
  loadSeconds: number
}

/** The references, measured next to the figure they divide (other programs share this machine). */
interface References {
  bare: LoadResult
  signRate: number
}

/** The bare Fastify route under the same load as kaguan's throughput run. */
async function bareReference(bare: Child): Promise<LoadResult> {
  const bodies = range(0, 2_000).map((i) =>
    JSON.stringify({
      templateId: 'T',
      bizCardNo: cloneNumbers(i)[0],
      point: '1',
      changeReason: 'bench',
      timestamp: String(Date.now()),
      nonce: randomBytes(16).toString('hex'),
      sign: randomBytes(256).toString('base64'),
    }),
  )
  const result = await load(`${(bare.ready as { url: string }).url}/card/update`, bodies, {
    capMs: 5_000,
    cycle: true,
    expectOk: true,
    cpuPid: bare.pid,
  })
  log(`bare Fastify: ${result.okPerSec.toFixed(0)}/s`)
  return result
}

const sqlReports: Record<string, unknown> = {}

async function runScenarios(stack: Stack, bare: Child): Promise<Figures> {
  const core = `${stack.urls.core}/card/update`
  let next = 0
  const take = (n: number) => {
    const r = range(next, n)
    next += n
    return r
  }

  const skipped: LoadResult = {
    okPerSec: NaN,
    ok: 0,
    errors: 0,
    p50: NaN,
    p99: NaN,
    seconds: NaN,
    cpuMsPerOk: NaN,
  }
  let bareResult = skipped
  let throughput = skipped
  let halfLoad = skipped
  let intake = skipped
  if (want('throughput')) {
    // A short probe sizes the pre-signed set: enough for the time cap at the probed rate, so a slow
    // run does not spend a minute signing requests it will never send.
    const probe = await load(
      core,
      signedBodies(stack, take(300), (j) => 10 + j),
      {
        capMs: 2_000,
        expectOk: true,
      },
    )
    const count = Math.min(
      PLAN.throughput.count,
      Math.ceil(probe.okPerSec * 2 * (PLAN.throughput.capMs / 1000)) + 500,
    )
    await drain(stack)
    log(`${stack.dialect}: signing ${count} requests`)
    const tputBodies = signedBodies(stack, take(count), (j) => 1000 + j)
    bareResult = await bareReference(bare)
    log(`${stack.dialect}: /card/update throughput`)
    throughput = await load(core, tputBodies, {
      capMs: PLAN.throughput.capMs,
      expectOk: true,
      rssPid: stack.kaguan.pid,
      cpuPid: stack.kaguan.pid,
    })
    await drain(stack)

    // Half the measured rate, on cards already loaded (wrapping round, a card may get two updates).
    const rate = Math.max(1, Math.floor(throughput.okPerSec / 2))
    const halfCount = Math.ceil((rate * PLAN.halfLoad.capMs) / 1000)
    const halfBodies = signedBodies(
      stack,
      range(0, halfCount).map((k) => k % PLAN.throughput.count),
      (j) => 5000 + j,
    )
    log(`${stack.dialect}: /card/update at ${rate}/s`)
    halfLoad = await load(core, halfBodies, {
      capMs: PLAN.halfLoad.capMs + 2_000,
      rate,
      expectOk: true,
    })
    await drain(stack)

    // The CRM-facing path alone: kaguan without its worker role (as a separate worker process
    // would leave it), the same load on the same cards; the outbox keeps the pushes for after.
    log(`${stack.dialect}: /card/update throughput, kaguan without its worker`)
    await restartKaguan(stack, 'management,mini,core')
    intake = await load(
      core,
      signedBodies(stack, range(300, count), (j) => 20_000 + j),
      {
        capMs: PLAN.throughput.capMs,
        expectOk: true,
        cpuPid: stack.kaguan.pid,
      },
    )
    await restartKaguan(stack, ALL_ROLES)
    await drain(stack)
  }

  let signRate = NaN
  let syncPerSec = NaN
  let syncCpuMsPerCard = NaN
  if (want('sync')) {
    // Distinct-card sync: the push rate the emulator's call log shows, first to last push.
    const syncBodies = signedBodies(stack, take(PLAN.sync.count), (j) => 7 + j)
    signRate = rsaSignRate()
    log(`RSA-2048 sign: ${signRate.toFixed(0)}/s on one core`)
    const before = await stack.peers.call<{ lastId: number }>('updateCallsSince', { afterId: 0 })
    log(`${stack.dialect}: sync of ${PLAN.sync.count} distinct cards`)
    const syncCpu0 = cpuMsOf(stack.kaguan.pid)
    await load(core, syncBodies, { capMs: PLAN.sync.capMs, expectOk: true })
    await drain(stack)
    const syncCpuMs = cpuMsOf(stack.kaguan.pid) - syncCpu0
    const sync = await stack.peers.call<{ n: number; ok: number; seconds: number }>(
      'updateCallsSince',
      {
        afterId: before.lastId,
      },
    )
    syncPerSec = sync.ok / sync.seconds
    syncCpuMsPerCard = syncCpuMs / Math.max(1, sync.ok)
  }

  let hot: Figures['hot'] = {
    calls: NaN,
    accepted: 0,
    perUpdate: NaN,
    showSeconds: NaN,
    lastWins: false,
  }
  if (want('hot')) {
    // Hot cards: Zipf over 1,000 cards; calls per accepted update and time until all show the last value.
    const hotCards = take(PLAN.hot.cards)
    const weights = hotCards.map((_, r) => 1 / Math.pow(r + 1, PLAN.hot.zipf))
    const total = weights.reduce((a, b) => a + b, 0)
    const cdf: number[] = []
    weights.reduce((acc, w, k) => (cdf[k] = acc + w / total), 0)
    let seed = 42
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const picks = range(0, PLAN.hot.count).map(() => {
      const x = rnd()
      let lo = 0
      let hi = cdf.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (cdf[mid]! < x) {
          lo = mid + 1
        } else {
          hi = mid
        }
      }
      return hotCards[lo]!
    })
    const hotBodies = signedBodies(stack, picks, (j) => 100_000 + j)
    const hotBefore = await stack.peers.call<{ lastId: number }>('updateCallsSince', { afterId: 0 })
    log(`${stack.dialect}: hot-card load, ${PLAN.hot.count} updates over ${PLAN.hot.cards} cards`)
    const hotLoad = await load(core, hotBodies, { capMs: PLAN.hot.capMs, expectOk: true })
    const tEnd = performance.now()
    const touched = [...new Set(picks)]
    const alipayNos = touched.map((i) => cloneNumbers(i)[1])
    let lastWins = false
    const showDeadline = Date.now() + PLAN.drainCapMs
    while (Date.now() < showDeadline) {
      const [ours, theirs] = await Promise.all([
        stack.kaguan.call<(number | null)[]>('points', touched.map(cloneCardId)),
        stack.peers.call<(number | null)[]>('points', alipayNos),
      ])
      if (ours.every((p, k) => p === theirs[k])) {
        lastWins = true
        break
      }
      await sleep(50)
    }
    const showSeconds = (performance.now() - tEnd) / 1000
    await drain(stack)
    const hotCalls = await stack.peers.call<{ n: number }>('updateCallsSince', {
      afterId: hotBefore.lastId,
    })
    hot = {
      calls: hotCalls.n,
      accepted: hotLoad.ok,
      perUpdate: hotCalls.n / Math.max(1, hotLoad.ok),
      showSeconds,
      lastWins,
    }
  }

  let claimFig: Figures['claim'] = { totalMs: NaN, waitMs: NaN, ownMs: NaN, cpuMs: NaN }
  if (want('claim')) {
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
    // Claims, one at a time: kaguan's callback as the emulator timed it, minus kaguan's own waits.
    // The first ones are not measured: they run the claim's code for the first times, before V8
    // has compiled it (a running server has long since), and measure the interpreter.
    log(`${stack.dialect}: ${PLAN.claims.warmUp} + ${PLAN.claims.count} claims`)
    for (let k = 0; k < PLAN.claims.warmUp; k++) {
      await claim(stack, `137${String(k).padStart(8, '0')}`)
    }
    const claims: { totalMs: number; waitMs: number }[] = []
    const claimCpu0 = cpuMsOf(stack.kaguan.pid)
    for (let k = 0; k < PLAN.claims.count; k++) {
      await stack.peers.call('resetTiming')
      await claim(stack, `139${String(k).padStart(8, '0')}`)
      claims.push(await stack.peers.call<{ totalMs: number; waitMs: number }>('claimTiming'))
    }
    log(
      `${stack.dialect}: claims, total/waiting ms:`,
      claims.map((c) => `${c.totalMs.toFixed(1)}/${c.waitMs.toFixed(1)}`).join(' '),
    )
    claimFig = {
      totalMs: med(claims.map((c) => c.totalMs)),
      waitMs: med(claims.map((c) => c.waitMs)),
      ownMs: med(claims.map((c) => c.totalMs - c.waitMs)),
      // Everything kaguan did for the claims, their notifications and CRM ADD pushes included.
      cpuMs: (cpuMsOf(stack.kaguan.pid) - claimCpu0) / claims.length,
    }
  }

  let search = skipped
  if (want('search')) {
    // Member search by card number, random members of the whole population.
    log(`${stack.dialect}: member search`)
    const paths = range(0, 2_000).map(
      (k) =>
        `/api/merchants/mch_default/members?bizCardNo=${cloneNumbers((k * 7919) % MEMBERS)[0]}`,
    )
    search = await load(`${stack.urls.management}`, [], {
      capMs: PLAN.search.capMs,
      connections: PLAN.search.connections,
      cycle: true,
      method: 'GET',
      paths,
      headers: { cookie: stack.cookie },
    })
  }

  if (process.env.BENCH_SQL_TIMING === '1') {
    sqlReports[stack.dialect] = await stack.kaguan.call('sqlTiming')
  }
  return {
    refs: { bare: bareResult, signRate },
    throughput,
    halfLoad,
    intake,
    syncPerSec,
    syncCpuMsPerCard,
    hot,
    claim: claimFig,
    search,
    idleRssMb: stack.idleRssMb,
    loadRssMb: throughput.peakRssMb ?? NaN,
    loadSeconds: stack.loadSeconds,
  }
}

// ---------------------------------------------------------------------------------------------
// the run

async function stopAll(): Promise<void> {
  await Promise.allSettled(children.map((c) => c.stop()))
  await teardown().catch(() => {})
  rmSync(root, { recursive: true, force: true })
}

async function main(): Promise<void> {
  const started = performance.now()
  log(`temp folder ${root}; members ${MEMBERS}; ${CONNECTIONS} connections`)
  const bare = await startChild('bare.ts', {})
  children.push(bare)

  const results: Partial<Record<'sqlite' | 'postgres', Figures>> = {}
  const dialects = flags.dialects!.split(',').map((d) => d.trim())
  if (dialects.includes('sqlite')) {
    const stack = await startStack('sqlite', `sqlite:${join(root, 'sqlite', 'kaguan.sqlite')}`)
    results.sqlite = await runScenarios(stack, bare)
    await stack.kaguan.stop()
    await stack.peers.stop()
  }
  if (dialects.includes('postgres')) {
    const bin = findPostgresBin()
    if (!bin) {
      log('PostgreSQL: no binaries found (initdb, postgres, pg_ctl on PATH); skipped')
    } else {
      const admin = await startThrowawayCluster(bin, { durable: true })
      const client = new pg.Client({ connectionString: admin })
      await client.connect()
      await client.query('create database kaguan_bench')
      await client.end()
      const stack = await startStack('postgres', admin.replace(/\/postgres$/, '/kaguan_bench'))
      results.postgres = await runScenarios(stack, bare)
      await stack.kaguan.stop()
      await stack.peers.stop()
    }
  }
  await bare.stop()
  console.log(table(results))
  for (const [dialect, sql] of Object.entries(sqlReports)) {
    log(`${dialect}: SQLite statements by time`, JSON.stringify(sql, null, 1))
  }
  log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`)
}

function table(results: Partial<Record<'sqlite' | 'postgres', Figures>>): string {
  const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '—')
  const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—')
  const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '—')
  const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '—')
  const both = [results.sqlite, results.postgres]
  const d = (pick: (f: Figures) => string) => both.map((r) => (r ? pick(r) : '—')).join(' | ')
  const each = (pick: (f: Figures) => string) => both.map((r) => (r ? pick(r) : '—')).join(' / ')
  const rows = [
    '| figure | SQLite | PostgreSQL (fsync on) | reference (measured next to SQLite / PG) | ratio SQLite / PG | target |',
    '|---|---|---|---|---|---|',
    `| signed \`/card/update\` accepted/s (${CONNECTIONS} conns, distinct cards) | ${d((f) => f0(f.throughput.okPerSec))} | bare Fastify ${each((f) => f0(f.refs.bare.okPerSec))}/s | ${each((f) => f3(f.throughput.okPerSec / f.refs.bare.okPerSec))} | ≥ 0.5 / ≥ 0.3 |`,
    `| same: CPU ms per accepted update (kaguan process) | ${d((f) => f2(f.throughput.cpuMsPerOk))} | bare ${each((f) => f3(f.refs.bare.cpuMsPerOk))} ms | ${each((f) => f3(f.refs.bare.cpuMsPerOk / f.throughput.cpuMsPerOk))} | — |`,
    `| same: p50 / p99 ms, errors | ${d((f) => `${f1(f.throughput.p50)} / ${f1(f.throughput.p99)}, ${f.throughput.errors}`)} | bare p99 ${each((f) => f1(f.refs.bare.p99))} | — | — |`,
    `| \`/card/update\` at half that rate: p99 ms, errors (rate) | ${d((f) => `${f1(f.halfLoad.p99)}, ${f.halfLoad.errors} (${f0(f.halfLoad.okPerSec)}/s)`)} | — | — | p99 < 20 ms, 0 errors |`,
    `| same load, kaguan without its worker (the CRM-facing path alone): accepted/s, CPU ms each | ${d((f) => `${f0(f.intake.okPerSec)}, ${f2(f.intake.cpuMsPerOk)}`)} | bare Fastify ${each((f) => f0(f.refs.bare.okPerSec))}/s | ${each((f) => f3(f.intake.okPerSec / f.refs.bare.okPerSec))} | — |`,
    `| distinct-card sync, pacing off: cards/s pushed | ${d((f) => f0(f.syncPerSec))} | RSA-2048 sign ${each((f) => f0(f.refs.signRate))}/s (1 core) | ${each((f) => f3(f.syncPerSec / f.refs.signRate))} | ≥ 0.4 |`,
    `| same: kaguan CPU ms per card (accept + push) | ${d((f) => f2(f.syncCpuMsPerCard))} | one RSA sign ${each((f) => f2(1000 / f.refs.signRate))} ms | ${each((f) => f3(1000 / f.refs.signRate / f.syncCpuMsPerCard))} | — |`,
    `| hot cards (Zipf ${PLAN.hot.zipf}, ${PLAN.hot.cards} cards): \`card.update\` calls per accepted update | ${d((f) => `${f3(f.hot.perUpdate)} (${f.hot.calls}/${f.hot.accepted})`)} | naive: 1 | — | ≤ 0.1 |`,
    `| hot cards: last value shown on every card, s after the last update | ${d((f) => `${f2(f.hot.showSeconds)}${f.hot.lastWins ? '' : ' (NOT converged)'}`)} | — | — | ≤ 2 s, last wins |`,
    `| claim, median ms: total / waiting for Alipay+CRM / kaguan's own | ${d((f) => `${f1(f.claim.totalMs)} / ${f1(f.claim.waitMs)} / ${f1(f.claim.ownMs)}`)} | — | — | own ≤ 5 ms |`,
    `| claim: kaguan CPU ms per claim (its notifications and the CRM ADD push included) | ${d((f) => f1(f.claim.cpuMs))} | — | — | — |`,
    `| member search by card no. (${MEMBERS.toLocaleString('en')} members): p99 ms, /s | ${d((f) => `${f1(f.search.p99)}, ${f0(f.search.okPerSec)}/s`)} | — | — | p99 < 50 ms |`,
    `| kaguan RSS MB: idle / under load | ${d((f) => `${f0(f.idleRssMb)} / ${f0(f.loadRssMb)}`)} | — | — | < 300 MB |`,
    `| bulk load: ${MEMBERS.toLocaleString('en')} members + cards, s | ${d((f) => f1(f.loadSeconds))} | — | — | — |`,
  ]
  return rows.join('\n')
}

process.on('SIGINT', () => void stopAll().finally(() => process.exit(130)))
try {
  await main()
} finally {
  await stopAll()
}
