import type { OutboxRow, OutboxStatus } from './outbox.table.js'

export interface OutboxItem {
  id: string
  merchantId: string
  topic: string
  collapseKey: string | null
  payload: unknown
  status: OutboxStatus
  attempts: number
  nextAttemptAt: string
  lastError: string | null
  createdAt: string
  updatedAt: string
  doneAt: string | null
}

/** A stored entry as the admin API shows it. */
export function toItem(row: OutboxRow): OutboxItem {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    topic: row.topic,
    collapseKey: row.collapse_key,
    payload: JSON.parse(row.payload) as unknown,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    doneAt: row.done_at,
  }
}
