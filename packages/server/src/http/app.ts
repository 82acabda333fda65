import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { HealthBody } from '@kaguan/contracts'
import type { Role } from '../config.js'
import { ping } from '../db/db.js'
import { pendingMigrations } from '../db/migrate.js'
import type { AppDeps } from '../deps.js'
import { installJsonErrorHandler } from './errors.js'
import { lazyChildLogger, type Logger } from '../shared/log.js'

export type RoleApp = FastifyInstance

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/
/** Query parameters whose values must not reach a log line (auth codes, tokens, personal data). */
const SENSITIVE_QUERY =
  /^(auth_?code|access_?token|app_?auth_?token|token|sign|signature|mobile|name|cert_?no|password)$/i

/** A URL fit for logs: values of sensitive query parameters replaced. */
export function redactQuery(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) {
    return url
  }
  const params = new URLSearchParams(url.slice(q + 1))
  for (const key of [...params.keys()]) {
    if (SENSITIVE_QUERY.test(key)) {
      params.set(key, '***')
    }
  }
  return `${url.slice(0, q)}?${params.toString()}`
}

/** The `trustProxy` setting as Fastify takes it: `true`, a hop count, or addresses and CIDRs. */
export function trustedProxies(
  setting: string,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (setting === 'true') {
    return true
  }
  if (/^\d+$/.test(setting)) {
    const hops = Number(setting)
    return (_address, hop) => hop < hops
  }
  return setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/**
 * The Fastify app of one role: request ids (a caller's `x-request-id` is kept), JSON errors,
 * `/healthz` (the process is up) and `/readyz` (the database answers and is migrated). Each role
 * adds its own routes through `register`.
 */
export async function buildRoleApp(
  role: Role,
  deps: AppDeps,
  register?: (app: FastifyInstance) => Promise<void> | void,
): Promise<RoleApp> {
  const app = Fastify({
    loggerInstance: deps.log.child({ role }) as FastifyBaseLogger,
    childLoggerFactory: (logger, bindings, options) =>
      lazyChildLogger(logger as Logger, bindings, options) as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : deps.ids.next('req')
    },
    // Fastify's own request lines carry the full URL; ours (onResponse below) hide query secrets.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'requestId',
    }),
    bodyLimit: 1024 * 1024,
    trustProxy: trustedProxies(deps.config.trustProxy),
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id)
    done()
  })
  app.addHook('onResponse', (request: FastifyRequest, reply, done) => {
    deps.metrics.http.observe(
      {
        role,
        method: request.method,
        // The route's pattern (`/api/cards/:id`), never the URL: ids and queries would make a
        // series per request.
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    )
    const line = {
      method: request.method,
      url: redactQuery(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    }
    if (
      request.url === '/healthz' ||
      request.url === '/readyz' ||
      // The CRM's calls come by the thousand per second (issue 12): a line each (redacted,
      // serialised, written) cost more than the change. Their count and times are in the
      // metrics histogram above, each change in the card's point entries; a refused call (≥ 400)
      // is still logged at info.
      (role === 'core' && reply.statusCode < 400)
    ) {
      request.log.debug(line, 'request')
    } else {
      request.log.info(line, 'request')
    }
    done()
  })

  installJsonErrorHandler(app)

  // Someone opening a role's address in a browser: point at what is there. The management role
  // answers `/` itself (the console, or its API docs when the console is not built).
  if (role !== 'management') {
    app.get('/', { schema: { hide: true } }, () => ({
      service: 'kaguan',
      role,
      health: '/healthz',
      ready: '/readyz',
    }))
  }
  // Management shows its metrics only behind the login (http/management/index.ts).
  if (role !== 'management') {
    app.get('/metrics', { schema: { hide: true } }, metricsHandler(deps))
  }
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness',
        description: 'Liveness: the process is up.',
        response: { 200: HealthBody },
      },
    },
    () => ({ status: 'ok' as const, role }),
  )
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness',
        description: 'Readiness: the database answers and its schema is current.',
        response: { 200: HealthBody, 503: HealthBody },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, string> = {}
      try {
        await ping(deps.db)
        const pending = await pendingMigrations(deps.db)
        checks.database = pending.length ? `pending migrations: ${pending.join(', ')}` : 'ok'
      } catch (error) {
        checks.database = `unreachable: ${(error as Error).message}`
      }
      const ready = Object.values(checks).every((c) => c === 'ok')
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', role, checks })
    },
  )

  if (register) {
    await app.register(async (scope) => register(scope))
  }
  return app
}

/** The `route` label of requests no route matched (404s, scanners). */
export const UNMATCHED_ROUTE = '(unmatched)'

/** `GET /metrics`: this process's registry in Prometheus text format. */
export function metricsHandler(deps: AppDeps) {
  return async (_request: FastifyRequest, reply: FastifyReply) => {
    const text = await deps.metrics.registry.metrics()
    return reply.type(deps.metrics.registry.contentType).send(text)
  }
}

/**
 * Keeps form bodies as raw bytes: Alipay may post GBK, and signatures are checked on what was sent,
 * so the route decodes them itself.
 */
export function keepFormBodiesRaw(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  )
}
