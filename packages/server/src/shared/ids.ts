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

export function createIds(now: () => number = Date.now): Ids {
  return {
    next(prefix) {
      const time = encode(BigInt(now()), 10)
      const random = encode(BigInt(`0x${randomBytes(10).toString('hex')}`), 16)
      return `${prefix}_${time}${random}`
    },
  }
}
