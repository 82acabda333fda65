/** Time comes from here, so expiry, backoff and signatures are testable with a fixed clock. */
export interface Clock {
  now(): Date
  /** ISO-8601 UTC with milliseconds (`2026-11-21T08:00:00.000Z`): sorts and compares as text everywhere. */
  nowIso(): string
}

export const systemClock: Clock = {
  now: () => new Date(),
  nowIso: () => new Date().toISOString(),
}

/** A clock that only moves when told to; for tests. */
export function fixedClock(start: Date | string): Clock & { advance(ms: number): void } {
  let t = new Date(start).getTime()
  return {
    now: () => new Date(t),
    nowIso: () => new Date(t).toISOString(),
    advance: (ms) => {
      t += ms
    },
  }
}
