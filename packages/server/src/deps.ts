import type { Config } from './config.js'
import type { DbHandle } from './db/db.js'
import type { Clock } from './shared/clock.js'
import type { FieldCipher } from './shared/field-crypto.js'
import type { Ids } from './shared/ids.js'
import type { Logger } from './shared/log.js'
import type { CardsDeps } from './modules/cards/index.js'

/** What every surface and the worker are built from: made once per process, passed down. */
export interface AppDeps {
  config: Config
  handle: DbHandle
  log: Logger
  clock: Clock
  ids: Ids
  cipher: FieldCipher
}

/** What the cards module's services take: the database itself rather than its handle. */
export function cardsDeps(deps: AppDeps): CardsDeps {
  return {
    db: deps.handle.db,
    clock: deps.clock,
    ids: deps.ids,
    cipher: deps.cipher,
    log: deps.log,
  }
}
