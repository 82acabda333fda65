import type { Logger } from '../../shared/log.js'
import { cancelExpiredHolds, type LedgerDeps } from './stamps.service.js'

export interface HoldSweeper {
  /** Cancels one batch of expired holds; resolves to how many it cancelled. */
  runOnce(): Promise<number>
  start(): void
  /** Stops and waits for the sweep in flight. */
  stop(): Promise<void>
}

const BATCH = 100

/**
 * The worker's periodic job for stamp holds: an exchange whose coupon is not claimed within its
 * activity's time to live gets its FREEZE cancelled. Runs beside the outbox worker, in the
 * `worker` role; several workers may sweep at once (the CANCEL key is per hold).
 */
export function createHoldSweeper(
  deps: LedgerDeps & { log: Logger },
  options: { everyMs: number },
): HoldSweeper {
  let running = false
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<number> | undefined

  const runOnce = async () => {
    const n = await cancelExpiredHolds(deps, BATCH)
    if (n) {
      deps.log.info({ cancelled: n }, 'expired stamp holds cancelled')
    }
    return n
  }

  function schedule(delay: number): void {
    if (!running) {
      return
    }
    timer = setTimeout(() => {
      inFlight = runOnce()
      inFlight
        .then((n) => schedule(n === BATCH ? 0 : options.everyMs))
        .catch((error: unknown) => {
          deps.log.error({ err: error }, 'stamp hold sweep failed')
          schedule(options.everyMs * 4)
        })
    }, delay)
  }

  return {
    runOnce,
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
