import type { Page } from '@kaguan/contracts'
import type { AppDeps } from '../../deps.js'
import type { Clock } from '../../shared/clock.js'
import type { Ids } from '../../shared/ids.js'
import { offsetOf, pageOf, type PageRequest } from '../../shared/paging.js'
import * as repo from './outbox.repository.js'
import { OutboxStatus } from './outbox.table.js'
import { toItem, type OutboxItem } from './outbox.view.js'

/** A page of the entries in one status (parked ones carry why they stopped). */
export async function pageOutbox(
  deps: Pick<AppDeps, 'db'>,
  filter: { merchantId?: string; status: OutboxStatus; topic?: string },
  request: PageRequest<repo.OutboxSort>,
): Promise<Page<OutboxItem>> {
  const { db } = deps
  const { rows, total } = await repo.page(db, filter, {
    sort: request.sort,
    order: request.order,
    offset: offsetOf(request),
    limit: request.pageSize,
  })
  return pageOf(rows.map(toItem), total, request)
}

export interface EnqueueCommand {
  merchantId: string
  topic: string
  payload: unknown
  /** Pending entries with the same topic and key merge: only the latest payload is delivered. */
  collapseKey?: string
  /**
   * Entries with the same topic and key are delivered in the order they were made, one at a time;
   * a later one waits while an earlier one is pending, running or parked.
   */
  orderKey?: string
  /** Not before this time (ISO); now by default. */
  notBefore?: string
}

/**
 * Records work for another system. Call it inside the transaction that makes the change, so the
 * message exists exactly when the change does (DESIGN.md principles).
 */
export async function enqueue(
  deps: { clock: Clock; ids: Ids } & Pick<AppDeps, 'db'>,
  cmd: EnqueueCommand,
): Promise<string> {
  const { db } = deps
  const now = deps.clock.nowIso()
  const row = await repo.upsert(db, {
    id: deps.ids.next('obx'),
    merchant_id: cmd.merchantId,
    topic: cmd.topic,
    collapse_key: cmd.collapseKey ?? null,
    order_key: cmd.orderKey ?? null,
    payload: JSON.stringify(cmd.payload),
    status: OutboxStatus.Pending,
    attempts: 0,
    next_attempt_at: cmd.notBefore ?? now,
    locked_by: null,
    locked_until: null,
    last_error: null,
    version: 0,
    created_at: now,
    updated_at: now,
    done_at: null,
  })
  return row.id
}

export async function listOutbox(
  deps: Pick<AppDeps, 'db'>,
  filter: { merchantId?: string; status?: OutboxStatus; topic?: string; limit?: number } = {},
): Promise<OutboxItem[]> {
  const { db } = deps
  return (await repo.list(db, { ...filter, limit: filter.limit ?? 100 })).map(toItem)
}

export async function getOutboxItem(
  deps: Pick<AppDeps, 'db'>,
  id: string,
): Promise<OutboxItem | undefined> {
  const { db } = deps
  const row = await repo.findById(db, id)
  return row && toItem(row)
}

/** Sends parked entries again (the operator fixed the cause). */
export function retryParked(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  ids: readonly string[] | 'all',
): Promise<number> {
  const { db, clock } = deps
  return repo.unpark(db, ids, clock.nowIso())
}

/** Entries by status, of one merchant or all. */
export function outboxCounts(
  deps: Pick<AppDeps, 'db'>,
  merchantId?: string,
): Promise<Record<string, number>> {
  const { db } = deps
  return repo.countByStatus(db, merchantId)
}

/** The outbox's figures for metrics: every undelivered group and when its oldest entry was made. */
export interface OutboxDepth {
  topic: string
  status: OutboxStatus
  count: number
  oldestCreatedAt: string
}

/** Entries not yet delivered (pending, running, parked) by topic and status, all merchants. */
export async function outboxDepth(deps: Pick<AppDeps, 'db'>): Promise<OutboxDepth[]> {
  return (await repo.undeliveredByTopic(deps.db)).map((r) => ({
    topic: r.topic,
    status: r.status as OutboxStatus,
    count: r.n,
    oldestCreatedAt: r.oldest,
  }))
}
