import pino, { type Logger } from 'pino'
import { maskerFor } from './mask.js'

export type { Logger }

/** Field names whose values are secrets: never logged, at any depth we redact. */
const SECRET_FIELDS = [
  'password',
  'passwordHash',
  'token',
  'crmToken',
  'authorization',
  'cookie',
  'set-cookie',
  'privateKey',
  'appPrivateKey',
  'masterKey',
  'masterKeyPrevious',
  'sign',
  'signature',
  'accessToken',
  'access_token',
  'auth_code',
  'authCode',
  'app_auth_token',
  'appAuthToken',
  'sessionSecret',
  'x-csrf-token',
]
/** Personal-data field names: logged masked (`138****5678`). */
const PERSONAL_FIELDS = ['mobile', 'phone', 'name', 'certNo', 'cert_no']

function pathsFor(fields: string[]): string[] {
  const paths: string[] = []
  for (const f of fields) {
    const key = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`
    const dot = key.startsWith('[') ? '' : '.'
    paths.push(key, `*${dot}${key}`, `*.*${dot}${key}`, `*.*.*${dot}${key}`)
  }
  return paths
}

/** The redaction pino applies: secrets become `[redacted]`, personal data is masked. */
export const redaction = {
  paths: [...pathsFor(SECRET_FIELDS), ...pathsFor(PERSONAL_FIELDS)],
  censor(value: unknown, path: string[]): unknown {
    const field = path[path.length - 1] ?? ''
    const mask = maskerFor(field)
    if (mask && PERSONAL_FIELDS.includes(field)) {
      return typeof value === 'string' ? mask(value) : '[masked]'
    }
    return '[redacted]'
  },
}

export interface LogOptions {
  level: string
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream
}

export function createLogger(options: LogOptions): Logger {
  return pino(
    {
      level: options.level,
      redact: redaction,
      base: { service: 'kaguan' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  )
}

const LINE_METHODS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child'])
const dropLine = () => undefined

/**
 * Fastify's per-request logger (`childLoggerFactory`), made only when something is written with
 * it. pino's `child()` runs its bindings through the redaction (its wildcard paths): 30-40 µs per
 * request, more than the SQL of a CRM update, and most requests log nothing at the level in force
 * (the core role's successful calls log at debug). A line below the level is dropped without it.
 */
export function lazyChildLogger(
  parent: Logger,
  bindings: pino.Bindings,
  options: pino.ChildLoggerOptions,
): Logger {
  let child: Logger | undefined
  const real = () => (child ??= parent.child(bindings, options))
  const threshold = parent.levels.values[options.level ?? parent.level] ?? 0
  return new Proxy(parent, {
    get(_target, property) {
      if (typeof property === 'string' && LINE_METHODS.has(property)) {
        if (!child && property !== 'child' && (parent.levels.values[property] ?? 0) < threshold) {
          return dropLine
        }
        return (...args: unknown[]) =>
          (real()[property as 'info'] as (...a: unknown[]) => unknown)(...args)
      }
      const target = real()
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value
    },
    set(_target, property, value) {
      return Reflect.set(real(), property, value)
    },
  })
}
