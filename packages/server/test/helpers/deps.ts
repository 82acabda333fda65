import { loadConfig, type Config } from '../../src/config.js'
import { createDeps, type AppDeps } from '../../src/deps.js'
import type { CrmPort } from '../../src/modules/crm/index.js'
import type { AlipayPort } from '../../src/ports/alipay.js'
import { fixedClock, type Clock } from '../../src/shared/clock.js'
import { generateMasterKey } from '../../src/shared/field-crypto.js'
import type { Logger } from '../../src/shared/log.js'
import type { TestDb } from './db.js'
import { capturingLogger } from './logs.js'

export { fixedClock }

/** A test configuration: every role on port 0 (any free port), a fresh master key. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    env: {
      KAGUAN_MANAGEMENT_PORT: '0',
      KAGUAN_MINI_PORT: '0',
      KAGUAN_CORE_PORT: '0',
      KAGUAN_DATABASE_URL: 'sqlite::memory:',
      KAGUAN_MASTER_KEY: generateMasterKey(),
      KAGUAN_LOG_LEVEL: 'debug',
      // Pushed at once, as the tests' fixed clocks expect; the settle has its own tests.
      KAGUAN_CARD_PUSH_SETTLE_MS: '0',
      ...env,
    },
  })
}

/**
 * The server's deps over a test database. Pass `alipay: fakeAlipay()` / `crm: fakeCrm()`
 * (test/helpers/fakes.ts) for DB-tier tests that need no emulator or CRM process; without them
 * the real ports are used, as in production.
 */
export function testDeps(
  db: TestDb,
  options: {
    clock?: Clock
    log?: Logger
    config?: Config
    alipay?: AlipayPort
    crm?: CrmPort
  } = {},
): AppDeps {
  const config = options.config ?? testConfig()
  return createDeps(config, {
    db: db.db,
    dialect: db.dialect,
    log: options.log ?? capturingLogger().log,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.alipay ? { alipay: options.alipay } : {}),
    ...(options.crm ? { crm: options.crm } : {}),
  })
}
