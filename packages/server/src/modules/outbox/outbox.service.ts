import type { Page } from '@kaguan/contracts'
import { offsetOf, pageOf, type PageRequest } from '../../shared/paging.js'
import * as repo from './outbox.repository.js'
import type { OutboxStatus } from './outbox.table.js'
import { toItem, type OutboxItem } from './outbox.view.js'
import type { AppDeps } from '../../deps.js'

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
