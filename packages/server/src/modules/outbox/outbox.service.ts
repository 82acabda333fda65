import type { Page } from '@kaguan/contracts'
import type { Executor } from '../../db/db.js'
import { offsetOf, pageOf, type PageRequest } from '../../shared/paging.js'
import * as repo from './outbox.repository.js'
import type { OutboxStatus } from './outbox.table.js'
import { toItem, type OutboxItem } from './outbox.view.js'

/** A page of the entries in one status (parked ones carry why they stopped). */
export async function pageOutbox(
  db: Executor,
  filter: { merchantId?: string; status: OutboxStatus; topic?: string },
  request: PageRequest<repo.OutboxSort>,
): Promise<Page<OutboxItem>> {
  const { rows, total } = await repo.page(db, filter, {
    sort: request.sort,
    order: request.order,
    offset: offsetOf(request),
    limit: request.pageSize,
  })
  return pageOf(rows.map(toItem), total, request)
}
