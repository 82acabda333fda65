import type { Config, DatabaseDialect } from './config.js'
import type { Db } from './db/db.js'
import { createGroupCommit, type GroupCommit } from './db/group-commit.js'
import { createCrmPort, type CrmPort } from './ports/crm-client.js'
import { createAlipayPort, type AlipayPort } from './ports/alipay.js'
import { createAlipayMessagesPort, type AlipayMessagesPort } from './ports/alipay-messages.js'
import { systemClock, type Clock } from './shared/clock.js'
import { AppError, ErrorKind } from './shared/errors.js'
import { createFieldCipher, type FieldCipher } from './shared/field-crypto.js'
import { createIds, type Ids } from './shared/ids.js'
import type { Logger } from './shared/log.js'
import { createMetrics, type Metrics } from './metrics/metrics.js'

/**
 * What every surface, module and the worker are built from: made once per process, passed down.
 * A module function takes `(deps, …)` or a `Pick` of it; inside a transaction it is given
 * `{ ...deps, db: trx }`. Outside systems are only reached through `alipay` and `crm`, so a test
 * can swap them (test/helpers/deps.ts) and no module holds a client of its own.
 */
export interface AppDeps {
  config: Config
  db: Db
  dialect: DatabaseDialect
  log: Logger
  clock: Clock
  ids: Ids
  cipher: FieldCipher
  alipay: AlipayPort
  /** Alipay's message long connection (长连接): the worker opens one channel per app through it. */
  alipayMessages: AlipayMessagesPort
  crm: CrmPort
  /** This process's Prometheus registry; the ports and the HTTP surfaces feed it. */
  metrics: Metrics
  /**
   * Group commit over `db` for the CRM-facing writes (db/group-commit.ts): concurrent changes
   * share one transaction. Closed (flushed) by the process before the database.
   */
  writes: GroupCommit
}

/** The parts a process supplies; the rest is made from the config. Tests pass fakes for the ports. */
export interface DepsParts {
  db: Db
  dialect: DatabaseDialect
  log: Logger
  clock?: Clock
  alipay?: AlipayPort
  alipayMessages?: AlipayMessagesPort
  crm?: CrmPort
  metrics?: Metrics
}

export function createDeps(config: Config, parts: DepsParts): AppDeps {
  if (!config.masterKey) {
    throw new AppError(
      ErrorKind.Invalid,
      'CONFIG_INVALID',
      'KAGUAN_MASTER_KEY_FILE: a master key is required to run kaguan',
    )
  }
  const clock = parts.clock ?? systemClock
  const metrics = parts.metrics ?? createMetrics({ processMetrics: false })
  return {
    config,
    db: parts.db,
    dialect: parts.dialect,
    log: parts.log,
    clock,
    ids: createIds(() => clock.now().getTime()),
    cipher: createFieldCipher(
      config.masterKey,
      config.masterKeyPrevious ? [config.masterKeyPrevious] : [],
    ),
    alipay:
      parts.alipay ??
      createAlipayPort(undefined, ({ method, result, ms }) =>
        metrics.alipay.observe({ method, result }, ms / 1000),
      ),
    alipayMessages: parts.alipayMessages ?? createAlipayMessagesPort(),
    crm:
      parts.crm ??
      createCrmPort(undefined, ({ path, result, ms }) =>
        metrics.crm.observe({ path, result }, ms / 1000),
      ),
    metrics,
    writes: createGroupCommit(parts.db, { lanes: writeLanes(parts.dialect, config) }),
  }
}

/**
 * Group-commit lanes: SQLite has one connection, so one. PostgreSQL: half the pool, at most 8;
 * each lane holds a connection while its batch runs, the other half serves every other query
 * (the worker, the console, the mini role). More lanes than that only add transactions: a lane's
 * batch grows while the one before it commits.
 */
function writeLanes(dialect: DatabaseDialect, config: Config): number {
  return dialect === 'sqlite'
    ? 1
    : Math.max(1, Math.min(8, Math.floor(config.database.poolSize / 2)))
}
