/** Alipay's and the seed's time format, `yyyy-MM-dd HH:mm:ss`, in China time (UTC+8, no DST). */
export function chinaTime(date: Date): string {
  return new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ')
}

/** Parses `yyyy-MM-dd HH:mm:ss` China time; undefined when malformed. */
export function parseChinaTime(text: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text.trim())
  if (!m) {
    return undefined
  }
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+08:00`)
  return Number.isNaN(d.getTime()) ? undefined : d
}

const DAY_MS = 24 * 3600_000

/** The China-time calendar day (`YYYY-MM-DD`) an instant falls on. */
export function chinaDate(date: Date): string {
  return chinaTime(date).slice(0, 10)
}

/** The instant a China-time day (`YYYY-MM-DD`) begins; undefined when malformed. */
export function chinaDayStart(day: string): Date | undefined {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? parseChinaTime(`${day} 00:00:00`) : undefined
}

/** The `days` China-time days ending with today's, oldest first. */
export function lastChinaDays(now: Date, days: number): string[] {
  const today = chinaDayStart(chinaDate(now))!.getTime()
  return Array.from({ length: days }, (_, i) =>
    chinaDate(new Date(today - (days - 1 - i) * DAY_MS)),
  )
}
