import { randomBytes } from 'node:crypto'

/**
 * Prefixed, time-sortable ids (`obx_01JD…`): 48 bits of milliseconds then 80 random bits, in
 * Crockford base32 like ULID, so ids sort by creation time in both SQLite and PostgreSQL.
 */
export interface Ids {
  next(prefix: string): string
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

function encode(value: bigint, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out
    value >>= 5n
  }
  return out
}

/**
 * Monotonic within the process (as ULID's monotonic factory): within one millisecond, or when the
 * clock steps back, the random part counts up from the last id, so ids made later sort later
 * (the outbox delivers entries of one order key by id).
 */
export function createIds(now: () => number = Date.now): Ids {
  let lastTime = -1n
  let lastRandom = 0n
  return {
    next(prefix) {
      const time = BigInt(now())
      if (time > lastTime) {
        lastTime = time
        lastRandom = BigInt(`0x${randomBytes(10).toString('hex')}`)
      } else {
        lastRandom = (lastRandom + 1n) & ((1n << 80n) - 1n)
      }
      return `${prefix}_${encode(lastTime, 10)}${encode(lastRandom, 16)}`
    },
  }
}
