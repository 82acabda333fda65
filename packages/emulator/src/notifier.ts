import type { KeyObject } from 'node:crypto'
import type Database from 'better-sqlite3'
import { notifySignContent, signText } from './crypto.js'
import { FaultKind } from './faults.js'
import type { Faults } from './faults.js'
import { alipayTime, hexToken } from './ids.js'
import type { Behaviour } from './options.js'
import { json } from './store.js'

/** The notifications the emulator sends (also the `method` of notification faults). */
export const NotifyKind = {
  CardOpen: 'card_open',
  CardDelete: 'card_delete',
  Mdcode: 'mdcode',
  Trade: 'trade',
  CouponReceived: 'coupon_received',
  /** `alipay.user.opencard.result.notify` (3.1 极速版). */
  OpenCardResult: 'opencard_result',
  AppAuthCancelled: 'app_auth_cancelled',
} as const
export type NotifyKind = (typeof NotifyKind)[keyof typeof NotifyKind]

/** A notification as the driver API reports it. */
export interface NotificationView {
  id: string
  kind: string
  appId: string
  url: string
  params: Record<string, string>
  status: 'pending' | 'delivered' | 'failed' | 'dropped'
  attempts: number
  lastStatus: number | null
  lastBody: string | null
  createdAt: string
  deliveredAt: string | null
}

interface NotificationRow {
  id: string
  kind: string
  app_id: string
  url: string
  params: string
  status: NotificationView['status']
  attempts: number
  next_at: number | null
  last_status: number | null
  last_body: string | null
  created_at: string
  delivered_at: string | null
}

/**
 * Sends signed form POSTs to merchants and retries on anything but the ack body, on Alipay's schedule
 * multiplied by `timeFactor`. Attempts are bounded by the schedule's length; `close()` cancels timers
 * and in-flight requests.
 */
export class Notifier {
  readonly #db: Database.Database
  readonly #key: KeyObject
  readonly #behaviour: Behaviour
  readonly #faults: Faults
  readonly #timeFactor: number
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #inFlight = new Set<AbortController>()
  #closed = false

  constructor(options: {
    db: Database.Database
    key: KeyObject
    behaviour: Behaviour
    faults: Faults
    timeFactor: number
  }) {
    this.#db = options.db
    this.#key = options.key
    this.#behaviour = options.behaviour
    this.#faults = options.faults
    this.#timeFactor = options.timeFactor
  }

  /**
   * Signs (rsaCheckV1 style: without `sign` and `sign_type`) and queues a notification. Empty values are
   * dropped first: the Node SDK's check keeps them while Java's drops them (§1.7), so never send any.
   */
  send(kind: NotifyKind, appId: string, url: string, fields: Record<string, string>): string {
    const id = hexToken(16)
    const params: Record<string, string> = {}
    for (const [k, v] of Object.entries(fields)) {
      if (v !== '') {
        params[k] = v
      }
    }
    params.notify_id ??= id
    params.notify_time ??= alipayTime()
    params.charset ??= 'utf-8'
    params.version ??= '1.0'
    params.sign_type = 'RSA2'
    params.sign = signText(notifySignContent(params), this.#key)
    const dropped = this.#faults.take(FaultKind.DropNotify, kind) !== undefined
    this.#db
      .prepare(
        `insert into notifications (id, kind, app_id, url, params, status, attempts, next_at, created_at)
         values (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
      )
      .run(
        id,
        kind,
        appId,
        url,
        JSON.stringify(params),
        dropped ? 'dropped' : 'pending',
        Date.now(),
        new Date().toISOString(),
      )
    if (!dropped) {
      this.#schedule(id, 0)
    }
    return id
  }

  /** Re-arms notifications left pending by a previous run (dbFile persistence). */
  resumePending(): void {
    const rows = this.#db
      .prepare(`select id, next_at from notifications where status = 'pending'`)
      .all() as { id: string; next_at: number | null }[]
    for (const row of rows) {
      this.#schedule(row.id, Math.max(0, (row.next_at ?? 0) - Date.now()))
    }
  }

  /** The notifications, newest last, optionally of one kind. */
  list(kind?: string): NotificationView[] {
    const rows = (
      kind === undefined
        ? this.#db.prepare('select * from notifications order by rowid').all()
        : this.#db.prepare('select * from notifications where kind = ? order by rowid').all(kind)
    ) as NotificationRow[]
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      appId: row.app_id,
      url: row.url,
      params: json<Record<string, string>>(row.params),
      status: row.status,
      attempts: row.attempts,
      lastStatus: row.last_status,
      lastBody: row.last_body,
      createdAt: row.created_at,
      deliveredAt: row.delivered_at,
    }))
  }

  /** Stops all timers and aborts requests in flight. */
  close(): void {
    this.#closed = true
    for (const timer of this.#timers) {
      clearTimeout(timer)
    }
    this.#timers.clear()
    for (const controller of this.#inFlight) {
      controller.abort()
    }
  }

  #schedule(id: string, delayMs: number): void {
    if (this.#closed) {
      return
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      void this.#attempt(id)
    }, delayMs)
    this.#timers.add(timer)
  }

  #schedulFor(kind: string): readonly number[] {
    const b = this.#behaviour
    switch (kind) {
      case NotifyKind.Trade:
        return b.tradeNotifySchedule
      case NotifyKind.CouponReceived:
        return b.couponNotifySchedule
      case NotifyKind.Mdcode:
        return b.mdcodeNotifySchedule
      default:
        return b.cardNotifySchedule
    }
  }

  async #attempt(id: string): Promise<void> {
    const row = this.#db.prepare('select * from notifications where id = ?').get(id) as
      NotificationRow | undefined
    if (row === undefined || row.status !== 'pending' || this.#closed) {
      return
    }
    const body = new URLSearchParams(json<Record<string, string>>(row.params)).toString()
    let status = 0
    let text = ''
    const controller = new AbortController()
    this.#inFlight.add(controller)
    const timeout = setTimeout(() => controller.abort(), 10_000)
    try {
      const response = await fetch(row.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body,
        signal: controller.signal,
      })
      status = response.status
      text = (await response.text()).slice(0, 2000)
    } catch (err) {
      text = `request failed: ${err instanceof Error ? err.message : String(err)}`
    } finally {
      clearTimeout(timeout)
      this.#inFlight.delete(controller)
    }
    if (this.#closed) {
      return
    }
    const attempts = row.attempts + 1
    const delivered = status === 200 && text.trim() === this.#behaviour.notifyAck
    if (delivered) {
      this.#db
        .prepare(
          `update notifications set status = 'delivered', attempts = ?, last_status = ?, last_body = ?, delivered_at = ?, next_at = null where id = ?`,
        )
        .run(attempts, status, text, new Date().toISOString(), id)
      // A duplicated notification: Alipay re-sends the same notify_id, and the merchant must dedupe.
      if (this.#faults.take(FaultKind.DuplicateNotify, row.kind) !== undefined) {
        void fetch(row.url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
          body,
          signal: AbortSignal.timeout(10_000),
        }).catch(() => undefined)
      }
      return
    }
    const schedule = this.#schedulFor(row.kind)
    const delaySeconds = schedule[attempts - 1]
    if (delaySeconds === undefined) {
      this.#db
        .prepare(
          `update notifications set status = 'failed', attempts = ?, last_status = ?, last_body = ?, next_at = null where id = ?`,
        )
        .run(attempts, status, text, id)
      return
    }
    const delayMs = Math.max(0, Math.round(delaySeconds * 1000 * this.#timeFactor))
    this.#db
      .prepare(
        `update notifications set attempts = ?, last_status = ?, last_body = ?, next_at = ? where id = ?`,
      )
      .run(attempts, status, text, Date.now() + delayMs, id)
    this.#schedule(id, delayMs)
  }
}
