import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  Type,
  type SchemaOptions,
  type StaticDecode,
  type TLiteral,
  type TSchema,
  type TUnion,
} from '@sinclair/typebox'
import { TransformDecodeError, Value } from '@sinclair/typebox/value'
import { parse as parseYaml } from 'yaml'
import { AppError, ErrorKind, type FieldProblem } from './shared/errors.js'
import { parseMasterKey } from './shared/field-crypto.js'

/**
 * The one reader of the environment (DESIGN.md). Settings come from, in rising precedence: their
 * defaults, a YAML file (`--config` or KAGUAN_CONFIG), then KAGUAN_* variables. A secret may be
 * given as a file path (`masterKeyFile:` / KAGUAN_MASTER_KEY_FILE). Every problem is reported at
 * once, naming the key the way the operator wrote it (YAML path or variable name).
 *
 * Every setting is declared once, in `Settings` below: its YAML key is its path in the schema, and
 * its options carry its variable (`env`), its constraints, its `default` and its doc line
 * (`description`, the "meaning" column of docs/configuration.md). The parser, the defaults, the
 * `Config` type, `kaguan config check`'s output and the documented table all come from it.
 */

export const Roles = ['management', 'mini', 'core', 'worker'] as const
export type Role = (typeof Roles)[number]

export type DatabaseDialect = 'sqlite' | 'postgres'

const LogLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> }

/** One of the given words; `title` names it in problems ("unknown role \"x\""). */
const oneOf = <const T extends readonly string[]>(values: T, options: SchemaOptions) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<Literals<T>>

/** A whole number from `minimum` to `maximum`; `title` names it in problems. */
const int = (minimum: number, maximum: number, options: SchemaOptions) =>
  Type.Integer({ minimum, maximum, ...options })

const port = (env: string, value: number, description: string) =>
  int(0, 65535, { title: 'port number', env, default: value, description })

const Settings = Type.Object({
  roles: Type.Array(oneOf(Roles, { title: 'role' }), {
    minItems: 1,
    env: 'KAGUAN_ROLES',
    default: [...Roles],
    description: 'comma list (or YAML list) of `management`, `mini`, `core`, `worker`',
  }),
  host: Type.String({
    minLength: 1,
    env: 'KAGUAN_HOST',
    default: '127.0.0.1',
    description: 'address every role binds to (`0.0.0.0` behind a proxy)',
  }),
  trustProxy: Type.String({
    minLength: 1,
    env: 'KAGUAN_TRUST_PROXY',
    default: 'loopback,linklocal,uniquelocal',
    description:
      'which proxies’ `X-Forwarded-For`/`-Proto` to believe: addresses or CIDRs (comma list; `loopback`, `linklocal`, `uniquelocal` name the private ranges), a hop count, or `true` for any. The client IP of claim limits and login back-off comes from it: never `true` when clients can reach kaguan directly',
  }),
  ports: Type.Object({
    management: port('KAGUAN_MANAGEMENT_PORT', 8080, 'the console and its admin API'),
    mini: port('KAGUAN_MINI_PORT', 8081, 'Alipay’s gateway and callbacks, the card component API'),
    core: port('KAGUAN_CORE_PORT', 8083, 'the CRM-facing API'),
    worker: port(
      'KAGUAN_WORKER_PORT',
      0,
      '0: the worker has no HTTP port; another number adds `/healthz`, `/readyz` and `/metrics`',
    ),
  }),
  dataDir: Type.String({
    minLength: 1,
    env: 'KAGUAN_DATA_DIR',
    default: './var',
    description: 'where the embedded database and the demo’s files live',
  }),
  database: Type.Object({
    url: Type.Transform(
      Type.String({
        minLength: 1,
        env: 'KAGUAN_DATABASE_URL',
        description:
          '`sqlite:<file>` or `postgres://user:password@host:5432/db`; without it, `sqlite:<dataDir>/kaguan.sqlite`',
      }),
    )
      .Decode(checkDatabaseUrl)
      .Encode((url) => url),
    poolSize: int(1, 1000, {
      env: 'KAGUAN_DATABASE_POOL_SIZE',
      default: 10,
      description:
        'PostgreSQL connections per kaguan process; half of them (at most 8) commit the CRM’s writes in batches, the rest serve everything else. Keep processes × pool under the server’s `max_connections`. SQLite always uses one connection',
    }),
  }),
  masterKey: Type.Optional(
    Type.Transform(
      Type.String({
        env: 'KAGUAN_MASTER_KEY',
        secret: true,
        description:
          'the master key (32 bytes, base64 or hex) that encrypts personal data and stored keys; required by every role',
      }),
    )
      .Decode(parseMasterKey)
      .Encode((key) => key.toString('base64')),
  ),
  masterKeyPrevious: Type.Optional(
    Type.Transform(
      Type.String({
        env: 'KAGUAN_MASTER_KEY_PREVIOUS',
        secret: true,
        description:
          'during a master-key rotation only: the key being replaced. kaguan still decrypts with it but encrypts with `masterKey`; remove it once `kaguan keys rotate-master` says it is no longer needed (docs/operations.md)',
      }),
    )
      .Decode(parseMasterKey)
      .Encode((key) => key.toString('base64')),
  ),
  log: Type.Object({
    level: oneOf(LogLevels, {
      title: 'log level',
      env: 'KAGUAN_LOG_LEVEL',
      default: 'info',
      description: '`fatal` … `trace`, `silent`',
    }),
  }),
  shutdownGraceMs: int(0, 600_000, {
    title: 'duration in milliseconds',
    env: 'KAGUAN_SHUTDOWN_GRACE_MS',
    default: 10_000,
    description: 'how long Ctrl-C / SIGTERM waits for in-flight requests and outbox work',
  }),
  alipayCertExpiryWarningDays: int(1, 365, {
    env: 'KAGUAN_ALIPAY_CERT_EXPIRY_WARNING_DAYS',
    default: 30,
    description:
      'cert-mode apps: warn (console banner, `kaguan config check`) this many days before a certificate expires',
  }),
  worker: Type.Object({
    alipayCallsPerSecond: int(1, 10_000, {
      env: 'KAGUAN_ALIPAY_CALLS_PER_SECOND',
      default: 20,
      description:
        'pace of card pushes per Alipay app, shared by every kaguan process on the database; stay under Alipay’s limits (docs/scaling.md)',
    }),
    concurrency: int(1, 1_000, {
      env: 'KAGUAN_WORKER_CONCURRENCY',
      default: 32,
      description:
        'deliveries (card pushes, CRM notices) one worker keeps in flight at once; never two of one card',
    }),
    cardPushSettleMs: int(0, 60_000, {
      title: 'duration in milliseconds',
      env: 'KAGUAN_CARD_PUSH_SETTLE_MS',
      default: 1_000,
      description:
        'a card’s push to Alipay waits this long after the change that queued it, and the card’s further changes meanwhile ride in the same `card.update` (0: push at once)',
    }),
    pollMs: int(1, 60_000, {
      env: 'KAGUAN_WORKER_POLL_MS',
      default: 2_000,
      description:
        'fallback: how often an idle worker looks for due deliveries it was not told about (changes made in this process wake it at once)',
    }),
    messageChannelLeaseMs: int(1_000, 600_000, {
      env: 'KAGUAN_MESSAGE_CHANNEL_LEASE_MS',
      default: 30_000,
      description:
        'long connection (长连接): how long a worker’s claim on a merchant’s one connection lasts; renewed every third of it, taken over by another worker when it lapses',
    }),
  }),
  isv: Type.Object({
    appId: Type.Optional(
      Type.String({
        minLength: 1,
        env: 'KAGUAN_ISV_APP_ID',
        description:
          'the ISV’s own Alipay app (第三方应用) that onboards merchants by app authorisation (docs/alipay-app-auth.md); without it merchants bring their own app',
      }),
    ),
    privateKey: Type.Optional(
      Type.String({
        minLength: 1,
        env: 'KAGUAN_ISV_PRIVATE_KEY',
        secret: true,
        description: 'the ISV app’s private key (应用私钥, PEM or base64)',
      }),
    ),
    alipayPublicKey: Type.Optional(
      Type.String({
        minLength: 1,
        env: 'KAGUAN_ISV_ALIPAY_PUBLIC_KEY',
        description: 'the Alipay public key (支付宝公钥) of the ISV app, PEM or base64',
      }),
    ),
    gateway: Type.String({
      minLength: 1,
      env: 'KAGUAN_ISV_GATEWAY',
      default: 'production',
      description: '`production`, `sandbox` or a gateway URL (the emulator’s `/gateway.do`)',
    }),
    publicUrl: Type.Optional(
      Type.String({
        minLength: 1,
        env: 'KAGUAN_ISV_PUBLIC_URL',
        description:
          'public base URL of the `mini` role; Alipay sends authorising merchants back to `<url>/alipay/app-auth/callback` (register it as the ISV app’s 授权回调地址)',
      }),
    ),
    refreshAheadSeconds: int(60, 365 * 86_400, {
      title: 'duration in seconds',
      env: 'KAGUAN_ISV_REFRESH_AHEAD_SECONDS',
      default: 7 * 86_400,
      description: 'the worker refreshes a merchant’s app_auth_token this long before it expires',
    }),
  }),
})

type Settings = StaticDecode<typeof Settings>

/** Deeply read-only, leaving Buffers as they are. */
type Frozen<T> = T extends Buffer
  ? T
  : T extends readonly (infer U)[]
    ? readonly Frozen<U>[]
    : T extends object
      ? { readonly [K in keyof T]: Frozen<T[K]> }
      : T

/** The settings as the schema declares them, plus what follows from them. */
export type Config = Frozen<
  Omit<Settings, 'database' | 'masterKey' | 'masterKeyPrevious'> & {
    database: Settings['database'] & { dialect: DatabaseDialect }
    /** Absent only where nothing is encrypted (`kaguan migrate`, `kaguan config check` without roles). */
    masterKey: Buffer | undefined
    /** The key a master-key rotation replaces: decrypts, never encrypts. */
    masterKeyPrevious: Buffer | undefined
    /** Where the settings came from, for `kaguan config check`. */
    sources: string[]
  }
>

/** One leaf of the schema: a setting. */
interface Setting {
  /** The YAML key: the dotted path in the schema. */
  key: string
  env: string
  schema: TSchema
}

function settingsOf(schema: TSchema, prefix = ''): Setting[] {
  return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([name, child]) => {
    const key = prefix ? `${prefix}.${name}` : name
    return typeof child.env === 'string'
      ? [{ key, env: child.env, schema: child }]
      : settingsOf(child, key)
  })
}

const SETTINGS = settingsOf(Settings)
const byKey = new Map(SETTINGS.map((s) => [s.key, s]))
const byEnv = new Map(SETTINGS.map((s) => [s.env, s]))
const bySecretFile = new Map(
  SETTINGS.filter((s) => s.schema.secret).map((s) => [`${s.env}_FILE`, s]),
)

/** Environment variables that are ours but are not settings. */
const NOT_SETTINGS = new Set(['KAGUAN_CONFIG'])

/** The settings table of docs/configuration.md, one row per way of giving a setting. */
export function settingsReference(): { key: string; env: string; default: unknown; doc: string }[] {
  return SETTINGS.flatMap(({ key, env, schema }) => {
    const range = schema.type === 'integer' ? ` (${schema.minimum}-${schema.maximum})` : ''
    const row = { key, env, default: schema.default, doc: `${schema.description}${range}` }
    return schema.secret
      ? [
          { ...row, key: `${key}File`, env: `${env}_FILE`, doc: `a file holding ${row.doc}` },
          { ...row, doc: 'the value itself (prefer the file)' },
        ]
      : [row]
  })
}

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

  // setting key -> [value, how the operator named it]
  const raw = new Map<string, [unknown, string]>()
  for (const { key, schema } of SETTINGS) {
    if (schema.default !== undefined) {
      raw.set(key, [schema.default, key])
    }
  }

  const file = input.configFile ?? input.env.KAGUAN_CONFIG
  if (file) {
    const path = resolve(cwd, file)
    // Named as the operator gave it: a --config flag is not the KAGUAN_CONFIG variable.
    const origin = input.configFile !== undefined ? '--config' : 'KAGUAN_CONFIG'
    if (readConfigFile(path, origin, read, problems, raw)) {
      sources.push(path)
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
    const secret = bySecretFile.get(name)
    if (secret) {
      const content = readSecretFile(resolve(cwd, value), name, read, problems)
      if (content !== undefined) {
        raw.set(secret.key, [content, name])
      }
      continue
    }
    const setting = byEnv.get(name)
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
    raw.set('roles', [input.overrides.roles, '--role'])
    sources.push('command line')
  }

  // In the schema's order, which `kaguan config check` prints.
  const values: Record<string, unknown> = {}
  for (const { key, schema } of SETTINGS) {
    const entry = raw.get(key)
    setPath(values, key, entry && decode(schema, entry[0], entry[1], problems))
  }
  if (input.requireMasterKey && !raw.has('masterKey')) {
    problems.push({
      field: 'KAGUAN_MASTER_KEY_FILE',
      message:
        'a master key is required to encrypt personal data and stored keys: create one with `kaguan keys master > master.key` and set KAGUAN_MASTER_KEY_FILE (or masterKeyFile: in the config file)',
    })
  }
  if (problems.length) {
    throw configError(problems)
  }

  const settings = values as Settings
  // Two roles in one process cannot share a port (0 means "any free port" and may repeat).
  const seen = new Map<number, Role>()
  for (const role of settings.roles) {
    const p = settings.ports[role]
    if (role === 'worker' || p === 0) {
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
  if (problems.length) {
    throw configError(problems)
  }

  const dataDir = resolve(cwd, settings.dataDir)
  const url = settings.database.url ?? `sqlite:${resolve(dataDir, 'kaguan.sqlite')}`
  return deepFreeze({
    ...settings,
    dataDir,
    database: { ...settings.database, url, dialect: dialectOf(url) },
    masterKey: settings.masterKey,
    masterKeyPrevious: settings.masterKeyPrevious,
    sources,
  })
}

/** Brings a value as written (YAML scalar or list, variable text) to the setting's type and checks it. */
function decode(schema: TSchema, value: unknown, name: string, problems: FieldProblem[]): unknown {
  const given = coerce(schema, value)
  try {
    return Value.Decode(schema, given)
  } catch (error) {
    problems.push({
      field: name,
      message:
        error instanceof TransformDecodeError
          ? (error.error as Error).message
          : problemText(schema, value, given),
    })
    return undefined
  }
}

function coerce(schema: TSchema, value: unknown): unknown {
  if (schema.type === 'array') {
    const list = typeof value === 'string' ? value.split(',') : value
    return Array.isArray(list)
      ? [...new Set(list.map((v) => coerce(schema.items as TSchema, v)).filter((v) => v !== ''))]
      : list
  }
  if (schema.type === 'integer') {
    return typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  }
  return typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : typeof value === 'string'
      ? value.trim()
      : value
}

/** What is wrong with a value, in the words of the setting's schema. */
function problemText(schema: TSchema, written: unknown, given: unknown): string {
  const literals = (s: TSchema) =>
    Array.isArray(s.anyOf) ? (s.anyOf as TSchema[]).map((l) => String(l.const)) : undefined
  if (schema.type === 'array' && Array.isArray(given)) {
    const items = schema.items as TSchema
    const allowed = literals(items) ?? []
    const unknown = given.filter((v) => !allowed.includes(String(v)))
    if (unknown.length) {
      return `unknown ${items.title} ${unknown.map((v) => `"${String(v)}"`).join(', ')} (expected ${allowed.join(', ')})`
    }
    return `no ${items.title} given (expected some of ${allowed.join(', ')})`
  }
  const allowed = literals(schema)
  if (allowed) {
    return `unknown ${schema.title} "${String(written)}" (expected ${allowed.join(', ')})`
  }
  if (schema.type === 'integer') {
    const what = (schema.title as string | undefined) ?? 'whole number'
    return `"${String(written)}" is not a ${what} (${schema.minimum}-${schema.maximum})`
  }
  if (schema.type === 'string' && given === '') {
    return 'must not be empty'
  }
  return Value.Errors(schema, given).First()?.message ?? 'invalid value'
}

export function configError(problems: FieldProblem[]): AppError {
  return new AppError(
    ErrorKind.Invalid,
    'CONFIG_INVALID',
    `invalid configuration:\n${problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n')}`,
    { fields: problems },
  )
}

/** The configuration with secrets replaced, for logs and `kaguan config check`: every setting, and what follows from them. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const view = structuredClone({
    ...config,
    masterKey: undefined,
    masterKeyPrevious: undefined,
  }) as Record<string, unknown>
  for (const { key, schema } of SETTINGS) {
    const value = getPath(config, key)
    if (schema.secret) {
      setPath(view, key, value === undefined ? '<not set>' : '<redacted>')
    } else if (typeof value === 'string') {
      setPath(view, key, redactUrl(value))
    } else if (value === undefined) {
      setPath(view, key, '<not set>')
    }
  }
  return view
}

/** Hides a password in a connection URL: `postgres://kaguan:***@db/kaguan`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]+):[^@/]*@/i, '$1:***@')
}

function dialectOf(url: string): DatabaseDialect {
  return url.startsWith('sqlite:') ? 'sqlite' : 'postgres'
}

/** A database URL kaguan can open: `sqlite:<file>`, `sqlite::memory:` or a postgres URL. */
function checkDatabaseUrl(url: string): string {
  if (url.startsWith('sqlite:')) {
    if (url === 'sqlite:') {
      throw new Error('sqlite: needs a file path (sqlite:./var/kaguan.sqlite) or sqlite::memory:')
    }
    return url
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let valid = false
    try {
      const parsed = new URL(url)
      valid = parsed.hostname !== '' && (!parsed.port || /^\d+$/.test(parsed.port))
    } catch {
      // not a URL at all
    }
    if (valid) {
      return url
    }
    throw new Error(
      `"${redactUrl(url)}" is not a valid postgres URL (postgres://user:password@host:5432/database)`,
    )
  }
  throw new Error(
    `"${redactUrl(url)}" is not a database URL: use sqlite:<file> or postgres://user:password@host:5432/database`,
  )
}

/** Adds the file's settings to `raw`; false (with the problem recorded) when the file is unusable. */
function readConfigFile(
  path: string,
  origin: string,
  read: (p: string) => string,
  problems: FieldProblem[],
  raw: Map<string, [unknown, string]>,
): boolean {
  if (!existsSync(path)) {
    problems.push({ field: `${origin} ${path}`, message: 'the config file does not exist' })
    return false
  }
  let doc: unknown
  try {
    doc = parseYaml(read(path))
  } catch (error) {
    problems.push({
      field: path,
      message: `not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    })
    return false
  }
  if (doc === null || doc === undefined) {
    return true
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    problems.push({ field: path, message: 'the config file must be a YAML mapping of settings' })
    return false
  }
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k
      const secret = key.endsWith('File') ? byKey.get(key.slice(0, -'File'.length)) : undefined
      if (secret?.schema.secret) {
        if (typeof v !== 'string') {
          problems.push({ field: key, message: 'must be a file path' })
          continue
        }
        const content = readSecretFile(resolve(path, '..', v), key, read, problems)
        if (content !== undefined) {
          raw.set(secret.key, [content, key])
        }
      } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        walk(v as Record<string, unknown>, key)
      } else if (!byKey.has(key)) {
        problems.push({ field: key, message: 'unknown setting (see docs/configuration.md)' })
      } else if (v === null) {
        problems.push({ field: key, message: 'has no value' })
      } else {
        raw.set(key, [v, key])
      }
    }
  }
  walk(doc as Record<string, unknown>, '')
  return true
}

function readSecretFile(
  path: string,
  name: string,
  read: (p: string) => string,
  problems: FieldProblem[],
): string | undefined {
  try {
    return read(path).trim()
  } catch {
    problems.push({ field: name, message: `cannot read secret file ${path}` })
    return undefined
  }
}

function setPath(target: Record<string, unknown>, key: string, value: unknown) {
  const parts = key.split('.')
  const last = parts.pop()!
  let node = target
  for (const part of parts) {
    node = (node[part] ??= {}) as Record<string, unknown>
  }
  node[last] = value
}

function getPath(source: object, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], source)
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    Object.values(value).forEach(deepFreeze)
    Object.freeze(value)
  }
  return value
}

/** loadConfig over this process's environment: the CLI's entry point. */
export function loadConfigFromProcess(input: Omit<LoadConfigInput, 'env'>): Config {
  return loadConfig({ ...input, env: process.env })
}
