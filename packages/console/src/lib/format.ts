import dayjs from 'dayjs'

/** A stored ISO time in the browser's time zone, or a dash. */
export function formatTime(iso: string | null | undefined): string {
  return iso ? dayjs(iso).format('YYYY-MM-DD HH:mm:ss') : '—'
}

/** A random key for one user action, so a retried request is applied once. */
export function idempotencyKey(): string {
  return globalThis.crypto.randomUUID()
}
