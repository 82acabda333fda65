import { createSweeper, type Sweeper } from '../../shared/sweeper.js'
import type { StampsDeps } from './stamps.deps.js'
import type { Logger } from '../../shared/log.js'
import { withCardPush } from './card-column.service.js'
import { expireDueStamps, remindExpiringStamps } from './expiry.service.js'
import { cancelExpiredHolds } from './stamps.service.js'

/** Cancels expired holds, expires stamps past their time and queues the reminders. */
export type HoldSweeper = Sweeper

const BATCH = 100

/**
 * The worker's periodic job for stamp holds and expiry: an exchange whose coupon is not claimed
 * within its activity's time to live gets its FREEZE cancelled; stamps past their activity's
 * expiry leave the ledger; members hear of an expiry some days before (POINT_REMIND). Runs beside the outbox worker, in the
 * `worker` role; several workers may sweep at once (the CANCEL key is per hold).
 */
export function createHoldSweeper(
  deps: StampsDeps & { log: Logger },
  options: { everyMs: number },
): HoldSweeper {
  return createSweeper({
    name: 'stamp hold sweep',
    everyMs: options.everyMs,
    log: deps.log,
    // A full batch of cancelled holds: more are waiting, sweep again at once.
    again: (cancelled) => cancelled === BATCH,
    sweep: async () => {
      // The member sees the stamps back on the card too.
      const n = await cancelExpiredHolds(deps, BATCH, withCardPush(deps))
      if (n) {
        deps.log.info({ cancelled: n }, 'expired stamp holds cancelled')
      }
      // After the holds: a cancelled hold's stamps are the member's again, and may be past their time.
      const expired = await expireDueStamps(deps, withCardPush(deps), BATCH)
      const reminded = await remindExpiringStamps(deps, BATCH)
      if (expired || reminded) {
        deps.log.info({ expired, reminded }, 'stamps expired and expiries reminded')
      }
      return n
    },
  })
}
