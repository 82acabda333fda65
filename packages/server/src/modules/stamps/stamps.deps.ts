import type { AppDeps } from '../../deps.js'

/**
 * What the stamps module's services take: the ledger needs the database and clock; activities,
 * exchanges and the Koubei mirror also reach Alipay through its port.
 */
export type StampsDeps = Pick<
  AppDeps,
  'db' | 'dialect' | 'alipay' | 'clock' | 'ids' | 'cipher' | 'log'
>
