import type { Page } from '@kaguan/contracts'
import { chinaDayStart } from '../../shared/china-time.js'
import { offsetOf, pageOf, type PageRequest } from '../../shared/paging.js'
import { AuditErrors } from './audit.errors.js'
import * as repo from './audit.repository.js'
import { toRecord, type AuditRecord } from './audit.view.js'
import type { AppDeps } from '../../deps.js'

/** What the audit page filters by; every one given must hold. */
export interface AuditFilter {
  merchantId?: string
  actor?: string
  /** An action (`template.publish`) or its leading part (`template`). */
  action?: string
  /** `type:id` (`card:crd_…`), or a type or an id alone. */
  object?: string
  /** A China-time day (from its start) or an ISO instant. */
  from?: string
  /** A China-time day (to its end) or an ISO instant (exclusive). */
  to?: string
}

const DAY_MS = 24 * 3600_000

/** The instant a `from`/`to` filter names, as stored (ISO UTC with milliseconds). */
function instant(field: 'from' | 'to', value: string): string {
  const day = chinaDayStart(value)
  if (day) {
    return new Date(day.getTime() + (field === 'to' ? DAY_MS : 0)).toISOString()
  }
  const at = /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : undefined
  if (!at || Number.isNaN(at.getTime())) {
    throw AuditErrors.badTime(field, value)
  }
  return at.toISOString()
}

function objectFilter(object: string): repo.AuditRowFilter {
  const colon = object.indexOf(':')
  if (colon > 0 && colon < object.length - 1) {
    return { targetType: object.slice(0, colon), targetId: object.slice(colon + 1) }
  }
  return { targetTypeOrId: object }
}

/** A page of the audit log, newest first unless asked otherwise. */
export async function searchAudit(
  deps: Pick<AppDeps, 'db'>,
  filter: AuditFilter,
  request: PageRequest<'createdAt'>,
): Promise<Page<AuditRecord>> {
  const { db } = deps
  const from = filter.from ? instant('from', filter.from) : undefined
  const to = filter.to ? instant('to', filter.to) : undefined
  if (from && to && from >= to) {
    throw AuditErrors.emptyRange()
  }
  const { rows, total } = await repo.page(
    db,
    {
      ...(filter.merchantId ? { merchantId: filter.merchantId } : {}),
      ...(filter.actor ? { actor: filter.actor } : {}),
      ...(filter.action ? { action: filter.action } : {}),
      ...(filter.object ? objectFilter(filter.object) : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    },
    { order: request.order, offset: offsetOf(request), limit: request.pageSize },
  )
  return pageOf(rows.map(toRecord), total, request)
}
