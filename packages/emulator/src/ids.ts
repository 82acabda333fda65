import { randomBytes, randomInt } from 'node:crypto'

/** `yyyy-MM-dd HH:mm:ss` in GMT+8, the format of Alipay's dates and timestamps. */
export function alipayTime(ms: number = Date.now()): string {
  return new Date(ms + 8 * 3600_000).toISOString().replace('T', ' ').slice(0, 19)
}

/** Parses `yyyy-MM-dd HH:mm:ss` read as GMT+8; undefined when malformed. */
export function parseAlipayTime(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text)
  if (!match) {
    return undefined
  }
  const ms = Date.parse(
    `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}+08:00`,
  )
  return Number.isNaN(ms) ? undefined : ms
}

/** A string of random decimal digits. */
export function digits(length: number): string {
  let out = ''
  while (out.length < length) {
    out += String(randomInt(0, 1_000_000_000)).padStart(9, '0')
  }
  return out.slice(0, length)
}

/** 32-digit ids like Alipay's template and activity ids: date + random digits. */
export function longId(): string {
  return alipayTime().slice(0, 10).replaceAll('-', '') + digits(24)
}

/** A random lowercase hex token. */
export function hexToken(bytes = 16): string {
  return randomBytes(bytes).toString('hex')
}

/** Image ids look like `hOTQ1lT1TtOjcxGflvnUXgAAACMAAQED`: 32 url-safe characters. */
export function imageId(): string {
  return randomBytes(24).toString('base64url').slice(0, 32)
}

/** Alipay user ids: 2088 + 12 digits. */
export function userId(): string {
  return `2088${digits(12)}`
}
