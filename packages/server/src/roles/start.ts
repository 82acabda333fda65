import type { FastifyInstance } from 'fastify'
import type { Config, Role } from '../config.js'
import { openDb } from '../db/db.js'
import { migrateToLatest } from '../db/migrate.js'
import { createDeps, type AppDeps } from '../deps.js'
import { buildRoleApp } from '../http/app.js'
import { registerManagement } from '../http/management/index.js'
import { registerMini } from '../http/mini/index.js'
import { registerCore } from '../http/core/index.js'
import {
  cardOutboxHandlers,
  createPointsExpirySweeper,
  pointsExpiryOutboxHandlers,
  type PointsExpirySweeper,
} from '../modules/cards/index.js'
import { createChannelRunner, type ChannelRunner } from '../modules/channel/index.js'
import {
  createAppAuthSweeper,
  ensureDefaultMerchant,
  type AppAuthSweeper,
} from '../modules/merchants/index.js'
import {
  createOutboxWorker,
  type OutboxHandler,
  type OutboxWorker,
} from '../modules/outbox/index.js'
import {
  createHoldSweeper,
  stampsOutboxHandlers,
  type HoldSweeper,
} from '../modules/stamps/index.js'
import { type Clock } from '../shared/clock.js'
import { AppError, ErrorKind } from '../shared/errors.js'
import type { Logger } from '../shared/log.js'
import { hostname } from 'node:os'
import { readDomainFigures } from '../metrics/domain.js'
import { createMetrics, registerDomainGauges } from '../metrics/metrics.js'

export interface RunningKaguan {
  deps: AppDeps
  /** `http://host:port` of each role with an HTTP surface that is listening. */
  urls: Partial<Record<Role, string>>
  close(): Promise<void>
}

/** The routes each role adds to its app. */
const ROUTES: Partial<Record<Role, (app: FastifyInstance, deps: AppDeps) => Promise<void> | void>> =
  {
    management: registerManagement,
    mini: registerMini,
    core: registerCore,
  }

/** The outbox topics the worker delivers, and by whom. */
const OUTBOX_HANDLERS = (deps: AppDeps): Record<string, OutboxHandler> => ({
  ...cardOutboxHandlers(deps, {
    alipayCallsPerSecond: deps.config.worker.alipayCallsPerSecond,
  }),
  ...stampsOutboxHandlers(deps),
  ...pointsExpiryOutboxHandlers(deps),
})

export interface StartOptions {
  log: Logger
  clock?: Clock
  /** Node's process figures (CPU, memory, event loop) in /metrics; on unless told otherwise. */
  processMetrics?: boolean
}

/**
 * Starts the configured roles in this process: opens and migrates the database, makes sure the
 * default merchant exists, then listens with each HTTP role and runs the worker.
 */
export async function startKaguan(config: Config, options: StartOptions): Promise<RunningKaguan> {
  const handle = openDb({
    url: config.database.url,
    dialect: config.database.dialect,
    poolSize: config.database.poolSize,
    onIdleError: (error) =>
      options.log.warn(
        { err: error.message },
        'an idle database connection failed; it will be replaced',
      ),
  })
  let deps: AppDeps
  try {
    deps = createDeps(config, {
      db: handle.db,
      dialect: handle.dialect,
      log: options.log,
      ...(options.clock ? { clock: options.clock } : {}),
      metrics: createMetrics({ processMetrics: options.processMetrics ?? true }),
    })
    registerDomainGauges(deps.metrics, () => readDomainFigures(deps), {
      onError: (error) =>
        options.log.warn({ err: error.message }, 'metrics: cannot read the domain figures'),
    })
  } catch (error) {
    await handle.close()
    throw error
  }
  const clock = deps.clock
  const apps: FastifyInstance[] = []
  let worker: OutboxWorker | undefined
  let sweeper: HoldSweeper | undefined
  let pointsSweeper: PointsExpirySweeper | undefined
  let channels: ChannelRunner | undefined
  let appAuthSweeper: AppAuthSweeper | undefined
  const close = async () => {
    await channels?.stop()
    await appAuthSweeper?.stop()
    // Before `deps.writes.close()`: the deliveries in flight record their completion through it.
    await worker?.stop()
    await sweeper?.stop()
    await pointsSweeper?.stop()
    await Promise.allSettled(apps.map((a) => a.close()))
    // Changes already accepted into a batch are committed (and answered) before the database closes.
    await deps.writes.close()
    await handle.close()
  }
  try {
    const applied = await migrateToLatest(handle.db)
    if (applied.length) {
      options.log.info({ applied }, 'database migrated')
    }
    await ensureDefaultMerchant({ db: handle.db, clock })

    const urls: Partial<Record<Role, string>> = {}
    for (const role of config.roles) {
      const port = config.ports[role]
      if (role === 'worker' && port === 0) {
        continue
      }
      const routes = ROUTES[role]
      const app = await buildRoleApp(role, deps, routes && ((scope) => routes(scope, deps)))
      apps.push(app)
      await app.listen({ host: config.host, port })
      const address = app.server.address()
      const actualPort = typeof address === 'object' && address ? address.port : port
      urls[role] =
        `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${actualPort}`
    }
    if (config.roles.includes('worker')) {
      worker = createOutboxWorker({
        db: deps.db,
        // Completions join the CRM's writes: `close` stops the worker before `deps.writes`.
        writes: deps.writes,
        dialect: deps.dialect,
        clock,
        log: options.log.child({ role: 'worker' }),
        handlers: OUTBOX_HANDLERS(deps),
        workerId: `${hostname()}:${process.pid}:${deps.ids.next('wrk')}`,
        concurrency: config.worker.concurrency,
        pollMs: config.worker.pollMs,
      })
      worker.start()
      // Holds live for minutes: a sweep every few polls is soon enough.
      sweeper = createHoldSweeper(
        { ...deps, log: options.log.child({ role: 'worker', job: 'stamp-holds' }) },
        { everyMs: Math.max(1_000, config.worker.pollMs * 4) },
      )
      sweeper.start()
      // Card points expire at China midnights (no-CRM mode): once a minute is soon enough.
      pointsSweeper = createPointsExpirySweeper(
        { ...deps, log: options.log.child({ role: 'worker', job: 'points-expiry' }) },
        { everyMs: Math.max(60_000, config.worker.pollMs * 4) },
      )
      pointsSweeper.start()
      // Alipay's message long connections of the merchants that chose them, one per merchant in the cluster.
      channels = createChannelRunner(
        { ...deps, log: options.log.child({ role: 'worker', job: 'message-channel' }) },
        {
          holder: `${hostname()}:${process.pid}:${deps.ids.next('chn')}`,
          leaseMs: config.worker.messageChannelLeaseMs,
        },
      )
      channels.start()
      // Merchants' app_auth_tokens (onboarding by app authorisation) are refreshed days ahead.
      appAuthSweeper = createAppAuthSweeper(
        { ...deps, log: options.log.child({ role: 'worker', job: 'app-auth-refresh' }) },
        { everyMs: Math.min(60_000, Math.max(1_000, config.worker.pollMs * 20)) },
      )
      appAuthSweeper.start()
    }
    return { deps, urls, close }
  } catch (error) {
    await close()
    if (error instanceof Error && (error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new AppError(
        ErrorKind.Unavailable,
        'PORT_IN_USE',
        `${error.message}: another program listens there; choose another port (ports.* / KAGUAN_*_PORT)`,
      )
    }
    throw error
  }
}
