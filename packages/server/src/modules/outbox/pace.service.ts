import type { DatabaseDialect } from '../../config.js'
import type { Db } from '../../db/db.js'
import * as repo from './pace.repository.js'

/** Waits for a call slot of a destination (an Alipay app) before each call. */
export interface Pacer {
  /** Resolves when this process may make one call to `key`; rejects when the database fails. */
  wait(key: string): Promise<void>
}

export interface PacerOptions {
  /** Calls per second to one key, summed over every process on the database. */
  perSecond: number
  /**
   * How far ahead one database round trip takes slots (ms): up to this much of the pace is leased
   * at once and handed out locally, so a fast pace does not write the database per call. Slots not
   * used on time are dropped (the pace can only come out lower, never higher).
   */
  leaseAheadMs?: number
  /** Most slots taken per round trip. */
  maxLease?: number
  /** Wall clock in ms (tests); processes on several hosts must agree on it (NTP). */
  now?: () => number
}

interface KeyState {
  /** Slot times (µs) leased and not handed out yet, ascending. */
  slots: number[]
  waiting: { resolve: () => void; reject: (error: unknown) => void }[]
  leasing: boolean
  known: boolean
}

/**
 * A pace shared by every kaguan process on one database: each call takes a slot from the key's
 * `delivery_pace` row (`next_slot = max(next_slot, now) + interval`), so N workers together send
 * at most `perSecond` calls per key, instead of N × the pace. Waiters of one key are served in
 * order; one round trip leases the slots for all who wait (and up to `leaseAheadMs` more).
 */
export function createSharedPacer(
  deps: { db: Db; dialect: DatabaseDialect },
  options: PacerOptions,
): Pacer {
  const intervalUs = Math.max(1, Math.round(1_000_000 / options.perSecond))
  const maxLease = options.maxLease ?? 64
  const ahead = Math.min(
    maxLease,
    Math.max(1, Math.floor(((options.leaseAheadMs ?? 50) * 1000) / intervalUs)),
  )
  const nowMs = options.now ?? Date.now
  const nowUs = () => Math.round(nowMs() * 1000)
  const states = new Map<string, KeyState>()

  function hand(state: KeyState): void {
    const now = nowUs()
    // A slot whose time passed unused is gone: using it late could bunch calls above the pace.
    while (state.slots.length && state.slots[0]! < now - intervalUs) {
      state.slots.shift()
    }
    while (state.slots.length && state.waiting.length) {
      const at = state.slots.shift()!
      const waiter = state.waiting.shift()!
      const delayMs = (at - now) / 1000
      if (delayMs >= 1) {
        setTimeout(waiter.resolve, Math.ceil(delayMs))
      } else {
        waiter.resolve()
      }
    }
  }

  async function lease(key: string, state: KeyState): Promise<void> {
    state.leasing = true
    try {
      while (state.waiting.length) {
        const count = Math.min(maxLease, Math.max(state.waiting.length, ahead))
        try {
          let first: number | undefined
          for (let attempt = 0; first === undefined && attempt < 2; attempt++) {
            if (!state.known) {
              await repo.ensurePaceRow(deps.db, key, nowUs())
              state.known = true
            }
            first = await repo.takeSlots(deps.db, deps.dialect, key, {
              count,
              intervalUs,
              nowUs: nowUs(),
            })
            state.known = first !== undefined
          }
          if (first === undefined) {
            throw new Error(`pace row ${key} vanished`)
          }
          for (let k = 0; k < count; k++) {
            state.slots.push(first + k * intervalUs)
          }
        } catch (error) {
          for (const waiter of state.waiting.splice(0)) {
            waiter.reject(error)
          }
          return
        }
        hand(state)
      }
    } finally {
      state.leasing = false
    }
  }

  return {
    wait(key) {
      let state = states.get(key)
      if (!state) {
        state = { slots: [], waiting: [], leasing: false, known: false }
        states.set(key, state)
      }
      const s = state
      return new Promise<void>((resolve, reject) => {
        s.waiting.push({ resolve, reject })
        hand(s)
        if (s.waiting.length && !s.leasing) {
          void lease(key, s)
        }
      })
    },
  }
}
