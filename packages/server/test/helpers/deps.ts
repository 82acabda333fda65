import { loadConfig, type Config } from '../../src/config.js'
import type { AppDeps } from '../../src/deps.js'
import { fixedClock, systemClock, type Clock } from '../../src/shared/clock.js'
import {
  createFieldCipher,
  generateMasterKey,
  parseMasterKey,
} from '../../src/shared/field-crypto.js'
import { createIds } from '../../src/shared/ids.js'
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
      ...env,
    },
  })
}

export function testDeps(
  db: TestDb,
  options: { clock?: Clock; log?: Logger; config?: Config } = {},
): AppDeps {
  const config = options.config ?? testConfig()
  const clock = options.clock ?? systemClock
  return {
    config,
    handle: db,
    log: options.log ?? capturingLogger().log,
    clock,
    ids: createIds(() => clock.now().getTime()),
    cipher: createFieldCipher(config.masterKey ?? parseMasterKey(generateMasterKey())),
  }
}
