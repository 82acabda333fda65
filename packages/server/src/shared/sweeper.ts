import type { Logger } from './log.js'

/** A periodic job of the worker role (hold cancels, expiry): run once on demand, or on a timer. */
export interface Sweeper {
  /** One sweep; resolves to how much it did (what `again` is judged by). */
  runOnce(): Promise<number>
  start(): void
  /** Stops and waits for the sweep in flight. */
  stop(): Promise<void>
}

/**
 * Runs `sweep` at once, then every `everyMs`; again at once while `again(result)` says a full
 * batch was found (a backlog drains without waiting), and after four intervals when it failed (a
 * database outage is not hammered).
 */
export function createSweeper(options: {
  name: string
  everyMs: number
  log: Logger
  sweep: () => Promise<number>
  again?: (result: number) => boolean
}): Sweeper {
  let running = false
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<number> | undefined

  function schedule(delay: number): void {
    if (!running) {
      return
    }
    timer = setTimeout(() => {
      inFlight = options.sweep()
      inFlight
        .then((n) => schedule(options.again?.(n) ? 0 : options.everyMs))
        .catch((error: unknown) => {
          options.log.error({ err: error }, `${options.name} failed`)
          schedule(options.everyMs * 4)
        })
    }, delay)
  }

  return {
    runOnce: options.sweep,
    start() {
      if (!running) {
        running = true
        schedule(0)
      }
    },
    async stop() {
      running = false
      if (timer) {
        clearTimeout(timer)
      }
      await inFlight?.catch(() => 0)
    },
  }
}
