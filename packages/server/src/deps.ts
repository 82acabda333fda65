import type { Config } from './config.js'
import type { DbHandle } from './db/db.js'
import type { Clock } from './shared/clock.js'
import type { FieldCipher } from './shared/field-crypto.js'
import type { Ids } from './shared/ids.js'
import type { Logger } from './shared/log.js'

/** What every surface and the worker are built from: made once per process, passed down. */
export interface AppDeps {
  config: Config
  handle: DbHandle
  log: Logger
  clock: Clock
  ids: Ids
  cipher: FieldCipher
}
