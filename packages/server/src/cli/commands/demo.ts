import { createPublicKey } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { startEmulator, type RunningEmulator } from '@kaguan/emulator'
import { startSampleCrm, type SampleCrm } from '@kaguan/sample-crm'
import { loadConfigFromProcess, type Config, type Role } from '../../config.js'
import { DEFAULT_MERCHANT_ID, merchantPaths } from '../../modules/merchants/index.js'
import { startKaguan, type RunningKaguan } from '../../roles/start.js'
import { AppError, ErrorKind } from '../../shared/errors.js'
import { generateMasterKey, parseMasterKey } from '../../shared/field-crypto.js'
import { createLogger } from '../../shared/log.js'
import { UsageError } from '../usage.js'
import { renderDemoText, type DemoInfo } from './demo/output.js'
import {
  configureMerchant,
  DEMO_APP_ID,
  DEMO_LEVELS,
  DEMO_SHOPS,
  DEMO_TEMPLATE_NAME,
  ensureAdmin,
  ensureClaimLink,
  ensureShops,
  ensureTemplate,
} from './demo/setup.js'
import { demoAppKey, demoCrmSecrets, DemoFiles, readPreviousInfo } from './demo/state.js'
import { ensureStampActivities } from './demo/stamps.js'
import { untilSignal } from './start.js'

/** The demo binds to loopback only: the management API and the sample CRM page have no protection from the network. */
const DEMO_HOST = '127.0.0.1'
/** Default ports of what the demo starts beside kaguan (DESIGN.md "Parts and where they run"). */
const EMULATOR_PORT = 8090
const SAMPLE_CRM_PORT = 8082

/** The command line of `kaguan demo`. */
export interface DemoOptions {
  'data-dir'?: string
  config?: string
  'port-offset'?: string
  'crm-url'?: string
  'crm-token'?: string
  'crm-public-key'?: string
}

/**
 * `npm start`: the emulator, kaguan with every role on the embedded SQLite default, and the sample
 * CRM (or an outside one), wired together: the app and its keys registered with the emulator, the
 * default merchant configured, two shops, a published demo template and its claim link. Everything
 * it makes is kept in the data folder, so a second start reuses it (same keys, same template, same
 * claim link) instead of making it again. Prints what to open and writes it to `demo.json`.
 */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const offset = portOffset(opts['port-offset'])
  const outsideCrm = outsideCrmOption(opts)
  const loaded = loadConfigFromProcess({ configFile: opts.config })
  const dataDir = opts['data-dir'] ? resolve(opts['data-dir']) : loaded.dataDir
  mkdirSync(dataDir, { recursive: true })
  const ports = Object.fromEntries(
    Object.entries(loaded.ports).map(([role, port]) => [
      role,
      port === 0 ? 0 : checkedPort(port + offset, role),
    ]),
  ) as Record<Role, number>
  const config: Config = {
    ...loaded,
    host: DEMO_HOST,
    ports,
    dataDir,
    database: opts['data-dir']
      ? { ...loaded.database, url: `sqlite:${join(dataDir, 'kaguan.sqlite')}`, dialect: 'sqlite' }
      : loaded.database,
    masterKey: loaded.masterKey ?? devMasterKey(dataDir),
  }
  // The banner is the demo's interface; JSON log lines would bury it. KAGUAN_LOG_LEVEL=debug (or any level but info) still wins.
  const log = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level })
  process.stdout.write(`kaguan demo: starting in ${dataDir} …\n`)

  const stops: (() => Promise<void>)[] = []
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      await stop().catch((error: unknown) =>
        log.error({ err: error }, 'error while stopping the demo'),
      )
    }
  }
  let running: RunningKaguan
  let emulator: RunningEmulator
  let sampleCrm: SampleCrm | undefined
  try {
    emulator = await listening('the Alipay emulator', EMULATOR_PORT + offset, () =>
      startEmulator({
        host: DEMO_HOST,
        port: EMULATOR_PORT + offset,
        dbFile: join(dataDir, DemoFiles.emulatorDb),
      }),
    )
    stops.push(() => emulator.close())
    running = await listening('kaguan', ports.management, () => startKaguan(config, { log }))
    stops.push(() => running.close())
    const urls = running.urls as Record<'management' | 'mini' | 'core', string>

    const appPrivateKeyPem = demoAppKey(dataDir)
    const appPublicKeyPem = publicPemOf(appPrivateKeyPem)
    // Re-registering every start keeps the emulator's callback and gateway URLs right after a port change.
    const { alipayPublicKey } = await drive<{ alipayPublicKey: string }>(
      emulator,
      '/__emulator/apps',
      {
        appId: DEMO_APP_ID,
        appPublicKey: appPublicKeyPem,
        gatewayUrl: `${urls.mini}${merchantPaths(DEFAULT_MERCHANT_ID).appGateway}`,
        callbackUrls: [`${urls.mini}${merchantPaths(DEFAULT_MERCHANT_ID).callback}`],
        products: ['member_card', 'koubei'],
      },
    )
    for (const shop of DEMO_SHOPS) {
      await drive(emulator, '/__emulator/shops', {
        shopId: shop.alipayShopId,
        name: shop.name,
        address: shop.address,
        lat: shop.latitude,
        lng: shop.longitude,
      })
    }

    let crm: { baseUrl: string; token: string; publicKey: string }
    if (outsideCrm) {
      crm = outsideCrm
    } else {
      const secrets = demoCrmSecrets(dataDir)
      const port = SAMPLE_CRM_PORT + offset
      sampleCrm = await listening('the sample CRM', port, () =>
        startSampleCrm({
          host: DEMO_HOST,
          port,
          token: secrets.token,
          privateKey: secrets.privateKeyPem,
          kaguanCoreUrl: urls.core,
          dataFile: join(dataDir, DemoFiles.sampleCrmData),
          levels: DEMO_LEVELS,
        }),
      )
      const started = sampleCrm
      stops.push(() => started.close())
      crm = {
        baseUrl: sampleCrm.url,
        token: secrets.token,
        publicKey: publicPemOf(secrets.privateKeyPem),
      }
    }

    const previous = readPreviousInfo(dataDir)
    const deps = running.deps
    const { publicUrlChanged } = await configureMerchant(deps, {
      appPrivateKeyPem,
      appPublicKeyPem,
      alipayPublicKey,
      gatewayUrl: emulator.gatewayUrl,
      miniUrl: urls.mini,
      crm,
    })
    const shops = await ensureShops(deps)
    const admin = await ensureAdmin(deps, dataDir)
    const template = await ensureTemplate(deps, shops, {
      previousId: previous?.templateId,
      publicUrlChanged,
    })
    const link = await ensureClaimLink(deps, template.id, emulator.url, urls.mini)
    const stamps = await ensureStampActivities(deps, shops)

    const info: DemoInfo = {
      roles: { management: urls.management, mini: urls.mini, core: urls.core },
      adminApiDocs: `${urls.management}/api/docs`,
      emulator: {
        url: emulator.url,
        gatewayUrl: emulator.gatewayUrl,
        walletUrl: `${emulator.url}/wallet`,
      },
      sampleCrm: sampleCrm ? { url: sampleCrm.url } : null,
      crm: { baseUrl: crm.baseUrl },
      merchantId: DEFAULT_MERCHANT_ID,
      templateId: template.id,
      alipayTemplateId: template.alipayTemplateId ?? '',
      claimLink: link.url,
      admin: { username: admin.username, passwordFile: admin.passwordFile },
      stamps,
    }
    const infoFile = join(dataDir, DemoFiles.info)
    writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`)
    process.stdout.write(
      renderDemoText({
        info,
        dataDir,
        database:
          config.database.dialect === 'sqlite'
            ? config.database.url.replace(/^sqlite:/, '')
            : config.database.dialect,
        infoFile,
        templateName: template.spec.basic.name || DEMO_TEMPLATE_NAME,
        adminPassword: admin.password,
        reused: previous?.templateId === template.id,
      }),
    )
  } catch (error) {
    await stopAll()
    throw error
  }
  // untilSignal closes kaguan itself; the rest (sample CRM, emulator) stops beside it.
  const code = await untilSignal(running, config, log, async () => {
    await sampleCrm?.close()
    await emulator.close()
  })
  process.stdout.write(
    code === 0 ? '已停止 · stopped\n' : '停止时出错 · stopped with errors (see the log above)\n',
  )
  return code
}

function portOffset(text: string | undefined): number {
  if (text === undefined) {
    return 0
  }
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n > 65535 - EMULATOR_PORT) {
    throw new UsageError(
      `--port-offset: "${text}" is not a whole number from 0 to ${65535 - EMULATOR_PORT}`,
    )
  }
  return n
}

function checkedPort(port: number, what: string): number {
  if (port > 65535) {
    throw new UsageError(`--port-offset: ${what} would listen on port ${port}, above 65535`)
  }
  return port
}

/** `--crm-url/--crm-token/--crm-public-key` (a PEM/base64 key or a file holding one): all three or none. */
function outsideCrmOption(
  opts: DemoOptions,
): { baseUrl: string; token: string; publicKey: string } | undefined {
  const given = (['crm-url', 'crm-token', 'crm-public-key'] as const).filter(
    (k) => opts[k] !== undefined,
  )
  if (given.length === 0) {
    return undefined
  }
  const missing = (['crm-url', 'crm-token', 'crm-public-key'] as const).filter(
    (k) => !opts[k]?.trim(),
  )
  if (missing.length) {
    throw new UsageError(
      `an outside CRM needs --crm-url, --crm-token and --crm-public-key; missing ${missing.map((k) => `--${k}`).join(', ')}`,
    )
  }
  const key = opts['crm-public-key']!.trim()
  const publicKey = !key.includes('BEGIN') && existsSync(key) ? readFileSync(key, 'utf8') : key
  return { baseUrl: opts['crm-url']!.trim(), token: opts['crm-token']!, publicKey }
}

function publicPemOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString()
}

/** Starts one part; a taken port becomes an error that says how to run beside the other program. */
async function listening<T>(what: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start()
  } catch (error) {
    const code = error instanceof AppError ? error.code : (error as NodeJS.ErrnoException).code
    if (code !== 'EADDRINUSE' && code !== 'PORT_IN_USE') {
      throw error
    }
    throw new AppError(
      ErrorKind.Unavailable,
      'PORT_IN_USE',
      `${what} cannot listen on ${DEMO_HOST}:${port}: another program (perhaps another demo) uses it. Stop it, or run this demo beside it with --port-offset 100 (npm start -- --port-offset 100)`,
      {},
      { cause: error },
    )
  }
}

/** A call to the emulator's driver API (JSON). */
async function drive<T = unknown>(
  emulator: RunningEmulator,
  path: string,
  body: unknown,
): Promise<T> {
  const res = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) {
    throw new AppError(
      ErrorKind.Unavailable,
      'DEMO_EMULATOR_FAILED',
      `the emulator refused ${path}: ${res.status} ${text}`,
    )
  }
  return JSON.parse(text) as T
}

function devMasterKey(dataDir: string): Buffer {
  const file = join(dataDir, 'master.key')
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(file, `${generateMasterKey()}\n`, { mode: 0o600 })
    process.stdout.write(
      `created a development master key in ${file} (keep it: it decrypts this data folder)\n`,
    )
  }
  return parseMasterKey(readFileSync(file, 'utf8'))
}
