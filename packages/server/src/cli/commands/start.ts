import { loadConfigFromProcess, redactedConfig, type Config } from '../../config.js'
import { startKaguan, type RunningKaguan } from '../../roles/start.js'
import { createLogger, type Logger } from '../../shared/log.js'

export async function runStart(opts: { role?: string[]; config?: string }): Promise<number> {
  const config = loadConfigFromProcess({
    configFile: opts.config,
    overrides: { roles: opts.role },
    requireMasterKey: true,
  })
  const log = createLogger({ level: config.log.level })
  log.info({ config: redactedConfig(config) }, 'starting kaguan')
  const running = await startKaguan(config, { log })
  for (const [role, url] of Object.entries(running.urls)) {
    log.info({ role, url }, `${role} listening on ${url}`)
  }
  return untilSignal(running, config, log)
}

/**
 * Runs until SIGINT or SIGTERM, then stops accepting requests, lets in-flight ones and the outbox
 * batch finish within shutdownGraceMs, and closes the database. A second signal (a second or more
 * later) exits at once.
 */
export function untilSignal(
  running: RunningKaguan,
  config: Config,
  log: Logger,
  onStop?: () => Promise<void>,
): Promise<number> {
  return new Promise((resolve) => {
    let stoppingSince: number | undefined
    const stop = (signal: NodeJS.Signals) => {
      // One Ctrl-C can arrive twice, from the terminal and relayed by the npm/tsx wrappers: a
      // repeat within a second is that same request, not an impatient second one.
      if (stoppingSince !== undefined && Date.now() - stoppingSince < 1000) {
        return
      }
      if (stoppingSince !== undefined) {
        log.warn({ signal }, 'second signal: exiting without waiting')
        process.exit(130)
      }
      stoppingSince = Date.now()
      log.info({ signal }, 'shutting down')
      const timer = setTimeout(() => {
        log.error({ graceMs: config.shutdownGraceMs }, 'shutdown took too long; exiting')
        process.exit(1)
      }, config.shutdownGraceMs)
      timer.unref()
      Promise.all([running.close(), onStop?.()])
        .then(() => {
          log.info('stopped')
          log.flush()
          resolve(0)
        })
        .catch((error: unknown) => {
          log.error({ err: error }, 'error while shutting down')
          resolve(1)
        })
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
