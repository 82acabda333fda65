import type { Insertable, Selectable } from 'kysely'

export const OutboxStatus = {
  Pending: 'pending',
  Running: 'running',
  Done: 'done',
  /** Failed for good or too often: waits for an operator (`kaguan outbox retry`). */
  Parked: 'parked',
} as const
export type OutboxStatus = (typeof OutboxStatus)[keyof typeof OutboxStatus]

export interface OutboxTable {
  id: string
  merchant_id: string
  topic: string
  collapse_key: string | null
  /** Entries with the same topic and order key are delivered one at a time, oldest first. */
  order_key: string | null
  payload: string
  status: OutboxStatus
  attempts: number
  next_attempt_at: string
  locked_by: string | null
  locked_until: string | null
  last_error: string | null
  /** Bumped each time a collapsed entry is overwritten by a newer state. */
  version: number
  created_at: string
  updated_at: string
  done_at: string | null
}
export type OutboxRow = Selectable<OutboxTable>
export type NewOutboxRow = Insertable<OutboxTable>

/** The next free call slot of a paced destination, shared by every process on the database. */
export interface DeliveryPaceTable {
  pace_key: string
  next_slot_us: number
}
