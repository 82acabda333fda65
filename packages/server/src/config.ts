import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { AppError, ErrorKind, type FieldProblem } from './shared/errors.js'
import { parseMasterKey } from './shared/field-crypto.js'

/**
 * The one reader of the environment (DESIGN.md). Settings come from, in rising precedence: the
 * defaults below, a YAML file (`--config` or KAGUAN_CONFIG), then KAGUAN_* variables. A secret may
 * be given as a file path (`masterKeyFile:` / KAGUAN_MASTER_KEY_FILE). Every problem is reported at
 * once, naming the key the way the operator wrote it (YAML path or variable name).
 */

export const Roles = ['management', 'mini', 'core', 'worker'] as const
export type Role = (typeof Roles)[number]

export const DatabaseDialects = ['sqlite', 'postgres'] as const
export type DatabaseDialect = (typeof DatabaseDialects)[number]

export interface Config {
  readonly roles: readonly Role[]
  /** The address every role binds to. */
  readonly host: string
  readonly ports: Readonly<Record<Role, number>>
  readonly dataDir: string
  readonly database: Readonly<{ url: string; dialect: DatabaseDialect; poolSize: number }>
  /** 32 bytes; absent only where nothing is encrypted (`kaguan migrate`, `kaguan config check` without roles). */
  readonly masterKey: Buffer | undefined
  readonly log: Readonly<{ level: LogLevel }>
  /** How long shutdown waits for in-flight requests and outbox work before giving up. */
  readonly shutdownGraceMs: number
  readonly worker: Readonly<{ alipayCallsPerSecond: number; pollMs: number }>
  /** Where the settings came from, for `kaguan config check`. */
  readonly sources: readonly string[]
}

const LogLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
type LogLevel = (typeof LogLevels)[number]

type Kind = 'roles' | 'string' | 'port' | 'level' | 'databaseUrl' | 'secret' | 'duration'

interface Setting {
  /** The key in the YAML file (dotted path). */
  key: string
  env: string
  kind: Kind
}

const SETTINGS: readonly Setting[] = [
  { key: 'roles', env: 'KAGUAN_ROLES', kind: 'roles' },
  { key: 'host', env: 'KAGUAN_HOST', kind: 'string' },
  { key: 'ports.management', env: 'KAGUAN_MANAGEMENT_PORT', kind: 'port' },
  { key: 'ports.mini', env: 'KAGUAN_MINI_PORT', kind: 'port' },
  { key: 'ports.core', env: 'KAGUAN_CORE_PORT', kind: 'port' },
  { key: 'ports.worker', env: 'KAGUAN_WORKER_PORT', kind: 'port' },
  { key: 'dataDir', env: 'KAGUAN_DATA_DIR', kind: 'string' },
  { key: 'database.url', env: 'KAGUAN_DATABASE_URL', kind: 'databaseUrl' },
  { key: 'database.poolSize', env: 'KAGUAN_DATABASE_POOL_SIZE', kind: 'duration' },
  { key: 'masterKey', env: 'KAGUAN_MASTER_KEY', kind: 'secret' },
  { key: 'log.level', env: 'KAGUAN_LOG_LEVEL', kind: 'level' },
  { key: 'shutdownGraceMs', env: 'KAGUAN_SHUTDOWN_GRACE_MS', kind: 'duration' },
  { key: 'worker.alipayCallsPerSecond', env: 'KAGUAN_ALIPAY_CALLS_PER_SECOND', kind: 'duration' },
  { key: 'worker.pollMs', env: 'KAGUAN_WORKER_POLL_MS', kind: 'duration' },
]

const DEFAULTS: Record<string, string> = {
  roles: Roles.join(','),
  host: '127.0.0.1',
  'ports.management': '8080',
  'ports.mini': '8081',
  'ports.core': '8083',
  // The worker has no public surface; a port here only adds /healthz and /readyz for probes.
  'ports.worker': '0',
  dataDir: './var',
  'log.level': 'info',
  shutdownGraceMs: '10000',
  // Alipay limits calls per app; card pushes are paced below it.
  'worker.alipayCallsPerSecond': '20',
  'worker.pollMs': '500',
  'database.poolSize': '10',
}

/** Environment variables that are ours but are not settings. */
const NOT_SETTINGS = new Set(['KAGUAN_CONFIG'])

export interface LoadConfigInput {
  env: Record<string, string | undefined>
  /** A YAML file; overrides KAGUAN_CONFIG. */
  configFile?: string
  /** Settings the command line fixes (e.g. `--role core`), applied last. */
  overrides?: { roles?: string[] }
  /** Whether the caller will encrypt or decrypt (every role does): makes the master key required. */
  requireMasterKey?: boolean
  cwd?: string
  readFile?: (path: string) => string
}

/** Reads, validates and freezes the configuration; throws AppError CONFIG_INVALID listing every problem. */
export function loadConfig(input: LoadConfigInput): Config {
  const cwd = input.cwd ?? process.cwd()
  const read = input.readFile ?? ((path: string) => readFileSync(path, 'utf8'))
  const problems: FieldProblem[] = []
  const sources = ['defaults']

  // raw: setting key -> [value, how the operator named it]
  const raw = new Map<string, [string, string]>()
  for (const [key, value] of Object.entries(DEFAULTS)) {
    raw.set(key, [value, key])
  }

  const file = input.configFile ?? input.env.KAGUAN_CONFIG
  if (file) {
    const path = resolve(cwd, file)
    // Named as the operator gave it: a --config flag is not the KAGUAN_CONFIG variable.
    const origin = input.configFile !== undefined ? '--config' : 'KAGUAN_CONFIG'
    const fromFile = readConfigFile(path, origin, read, problems)
    if (fromFile) {
      sources.push(path)
      for (const [key, value] of fromFile) {
        raw.set(key, [value, key])
      }
    }
  }

  for (const [name, value] of Object.entries(input.env)) {
    if (
      !name.startsWith('KAGUAN_') ||
      name.startsWith('KAGUAN_TEST_') ||
      NOT_SETTINGS.has(name) ||
      value === undefined
    ) {
      continue
    }
    const secretFile = name.endsWith('_FILE')
      ? SETTINGS.find((s) => s.kind === 'secret' && `${s.env}_FILE` === name)
      : undefined
    if (secretFile) {
      const content = readSecretFile(resolve(cwd, value), name, read, problems)
      if (content !== undefined) {
        raw.set(secretFile.key, [content, name])
      }
      continue
    }
    const setting = SETTINGS.find((s) => s.env === name)
    if (!setting) {
      problems.push({ field: name, message: 'unknown setting (see docs/configuration.md)' })
      continue
    }
    raw.set(setting.key, [value, name])
  }
  if (
    Object.keys(input.env).some((n) => n.startsWith('KAGUAN_') && !n.startsWith('KAGUAN_TEST_'))
  ) {
    sources.push('environment')
  }

  if (input.overrides?.roles?.length) {
    raw.set('roles', [input.overrides.roles.join(','), '--role'])
    sources.push('command line')
  }

  const value = <T>(
    key: string,
    parse: (text: string, name: string) => T | undefined,
  ): T | undefined => {
    const entry = raw.get(key)
    if (!entry) {
      return undefined
    }
    return parse(entry[0], entry[1])
  }
  const fail = (name: string, message: string) => {
    problems.push({ field: name, message })
    return undefined
  }

  const roles = value('roles', (text, name) => {
    const list = text
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean)
    const unknown = list.filter((r) => !(Roles as readonly string[]).includes(r))
    if (unknown.length) {
      return fail(
        name,
        `unknown role ${unknown.map((r) => `"${r}"`).join(', ')} (expected ${Roles.join(', ')})`,
      )
    }
    if (!list.length) {
      return fail(name, `no role given (expected some of ${Roles.join(', ')})`)
    }
    return [...new Set(list)] as Role[]
  })
  const port = (text: string, name: string) => {
    const n = Number(text)
    return Number.isInteger(n) && n >= 0 && n <= 65535
      ? n
      : fail(name, `"${text}" is not a port number (0-65535)`)
  }
  const ports = {
    management: value('ports.management', port),
    mini: value('ports.mini', port),
    core: value('ports.core', port),
    worker: value('ports.worker', port),
  }
  const host = value('host', (text, name) =>
    text.trim() ? text.trim() : fail(name, 'must not be empty'),
  )
  const dataDir = value('dataDir', (text, name) =>
    text.trim() ? resolve(cwd, text.trim()) : fail(name, 'must not be empty'),
  )
  const database =
    value('database.url', (text, name) => parseDatabaseUrl(text, name, problems)) ??
    (dataDir && !raw.has('database.url')
      ? { url: `sqlite:${resolve(dataDir, 'kaguan.sqlite')}`, dialect: 'sqlite' as const }
      : undefined)
  const level = value('log.level', (text, name) =>
    (LogLevels as readonly string[]).includes(text)
      ? (text as LogLevel)
      : fail(name, `"${text}" is not a log level (${LogLevels.join(', ')})`),
  )
  const shutdownGraceMs = value('shutdownGraceMs', (text, name) => {
    const n = Number(text)
    return Number.isInteger(n) && n >= 0 && n <= 600_000
      ? n
      : fail(name, `"${text}" is not a duration in milliseconds (0-600000)`)
  })
  const positive = (max: number) => (text: string, name: string) => {
    const n = Number(text)
    return Number.isInteger(n) && n >= 1 && n <= max
      ? n
      : fail(name, `"${text}" is not a whole number from 1 to ${max}`)
  }
  const alipayCallsPerSecond = value('worker.alipayCallsPerSecond', positive(10_000))
  const pollMs = value('worker.pollMs', positive(60_000))
  const poolSize = value('database.poolSize', positive(1_000))
  const masterKey = value('masterKey', (text, name) => {
    try {
      return parseMasterKey(text)
    } catch (error) {
      return fail(name, (error as Error).message)
    }
  })
  if (input.requireMasterKey && !raw.has('masterKey')) {
    problems.push({
      field: 'KAGUAN_MASTER_KEY_FILE',
      message:
        'a master key is required to encrypt personal data and stored keys: create one with `kaguan keys master > master.key` and set KAGUAN_MASTER_KEY_FILE (or masterKeyFile: in the config file)',
    })
  }

  // Two roles in one process cannot share a port (0 means "any free port" and may repeat).
  if (roles && !problems.length) {
    const seen = new Map<number, Role>()
    for (const role of roles) {
      const p = ports[role]
      if (role === 'worker' || p === undefined || p === 0) {
        continue
      }
      const other = seen.get(p)
      if (other) {
        problems.push({
          field: `ports.${role}`,
          message: `port ${p} is already used by role ${other}`,
        })
      }
      seen.set(p, role)
    }
  }

  if (problems.length) {
    throw configError(problems)
  }
  return Object.freeze({
    roles: Object.freeze(roles!),
    host: host!,
    ports: Object.freeze(ports as Record<Role, number>),
    dataDir: dataDir!,
    database: Object.freeze({ ...database!, poolSize: poolSize! }),
    masterKey,
    log: Object.freeze({ level: level! }),
    shutdownGraceMs: shutdownGraceMs!,
    worker: Object.freeze({ alipayCallsPerSecond: alipayCallsPerSecond!, pollMs: pollMs! }),
    sources: Object.freeze(sources),
  })
}

export function configError(problems: FieldProblem[]): AppError {
  return new AppError(
    ErrorKind.Invalid,
    'CONFIG_INVALID',
    `invalid configuration:\n${problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n')}`,
    { fields: problems },
  )
}

/** The configuration with secrets replaced, for logs and `kaguan config check`. */
export function redactedConfig(config: Config): Record<string, unknown> {
  return {
    roles: config.roles,
    host: config.host,
    ports: config.ports,
    dataDir: config.dataDir,
    database: { dialect: config.database.dialect, url: redactUrl(config.database.url) },
    masterKey: config.masterKey ? '<redacted>' : '<not set>',
    log: config.log,
    shutdownGraceMs: config.shutdownGraceMs,
    worker: config.worker,
    sources: config.sources,
  }
}

/** Hides a password in a connection URL: `postgres://kaguan:***@db/kaguan`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]+):[^@/]*@/i, '$1:***@')
}

function parseDatabaseUrl(text: string, name: string, problems: FieldProblem[]) {
  const url = text.trim()
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length)
    if (!path) {
      problems.push({
        field: name,
        message: 'sqlite: needs a file path (sqlite:./var/kaguan.sqlite) or sqlite::memory:',
      })
      return undefined
    }
    return { url, dialect: 'sqlite' as const }
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      const parsed = new URL(url)
      if (!parsed.hostname) {
        throw new Error('no host')
      }
      if (parsed.port && !/^\d+$/.test(parsed.port)) {
        throw new Error('bad port')
      }
      return { url, dialect: 'postgres' as const }
    } catch {
      problems.push({
        field: name,
        message: `"${redactUrl(url)}" is not a valid postgres URL (postgres://user:password@host:5432/database)`,
      })
      return undefined
    }
  }
  problems.push({
    field: name,
    message: `"${redactUrl(url)}" is not a database URL: use sqlite:<file> or postgres://user:password@host:5432/database`,
  })
  return undefined
}

function readConfigFile(
  path: string,
  origin: string,
  read: (p: string) => string,
  problems: FieldProblem[],
): Map<string, string> | undefined {
  if (!existsSync(path)) {
    problems.push({ field: `${origin} ${path}`, message: 'the config file does not exist' })
    return undefined
  }
  let doc: unknown
  try {
    doc = parseYaml(read(path))
  } catch (error) {
    problems.push({
      field: path,
      message: `not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    })
    return undefined
  }
  if (doc === null || doc === undefined) {
    return new Map()
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    problems.push({ field: path, message: 'the config file must be a YAML mapping of settings' })
    return undefined
  }
  const out = new Map<string, string>()
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k
      if (key === 'masterKeyFile') {
        const content =
          typeof v === 'string'
            ? readSecretFile(resolve(path, '..', v), key, read, problems)
            : undefined
        if (typeof v !== 'string') {
          problems.push({ field: key, message: 'must be a file path' })
        }
        if (content !== undefined) {
          out.set('masterKey', content)
        }
        continue
      }
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        walk(v as Record<string, unknown>, key)
        continue
      }
      if (!SETTINGS.some((s) => s.key === key)) {
        problems.push({ field: key, message: 'unknown setting (see docs/configuration.md)' })
        continue
      }
      if (Array.isArray(v)) {
        out.set(key, v.map(String).join(','))
      } else if (v === null) {
        problems.push({ field: key, message: 'has no value' })
      } else {
        out.set(key, String(v))
      }
    }
  }
  walk(doc as Record<string, unknown>, '')
  return out
}

function readSecretFile(
  path: string,
  name: string,
  read: (p: string) => string,
  problems: FieldProblem[],
): string | undefined {
  try {
    return read(isAbsolute(path) ? path : resolve(path)).trim()
  } catch {
    problems.push({ field: name, message: `cannot read secret file ${path}` })
    return undefined
  }
}

/** loadConfig over this process's environment: the CLI's entry point. */
export function loadConfigFromProcess(input: Omit<LoadConfigInput, 'env'>): Config {
  return loadConfig({ ...input, env: process.env })
}
