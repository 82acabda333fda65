import type { Page } from '@kaguan/contracts'
import type { AppDeps } from '../../deps.js'
import { chinaDayStart } from '../../shared/china-time.js'
import { maskerFor } from '../../shared/mask.js'
import { offsetOf, pageOf, type PageRequest } from '../../shared/paging.js'
import { AuditErrors } from './audit.errors.js'
import * as repo from './audit.repository.js'
import { toRecord, type AuditRecord } from './audit.view.js'

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

/** Keys whose values never reach the audit log, at any depth. */
const SECRET_KEY = /(password|secret|private|token|masterkey|sign(ature)?$|cookie|authorization)/i

/**
 * A copy of `value` fit for the audit log: secrets replaced by `<elided>`, personal data masked.
 * Key names stay, so the entry still shows *that* a key changed.
 */
export function elideSecrets(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(elideSecrets)
  }
  if (value === null || typeof value !== 'object') {
    return value
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    const mask = maskerFor(k)
    if (SECRET_KEY.test(k)) {
      out[k] = v === null || v === undefined ? v : '<elided>'
    } else if (mask && typeof v === 'string') {
      out[k] = mask(v)
    } else {
      out[k] = elideSecrets(v)
    }
  }
  return out
}

export interface AuditEntry {
  merchantId?: string | null
  actor: string
  action: string
  target?: { type: string; id: string }
  before?: unknown
  after?: unknown
  requestId?: string
}

export type AuditDeps = Pick<AppDeps, 'clock' | 'ids'>

/** Writes one audit entry; call it inside the transaction that makes the change. */
export async function recordAudit(
  deps: AuditDeps & Pick<AppDeps, 'db'>,
  entry: AuditEntry,
): Promise<void> {
  const { db } = deps
  await repo.insert(db, {
    id: deps.ids.next('aud'),
    merchant_id: entry.merchantId ?? null,
    actor: entry.actor,
    action: entry.action,
    target_type: entry.target?.type ?? null,
    target_id: entry.target?.id ?? null,
    before_json: entry.before === undefined ? null : JSON.stringify(elideSecrets(entry.before)),
    after_json: entry.after === undefined ? null : JSON.stringify(elideSecrets(entry.after)),
    request_id: entry.requestId ?? null,
    created_at: deps.clock.nowIso(),
  })
}

export async function auditTrail(
  deps: Pick<AppDeps, 'db'>,
  target: { type: string; id: string },
  limit = 100,
): Promise<AuditRecord[]> {
  const { db } = deps
  return (await repo.listByTarget(db, target.type, target.id, limit)).map(toRecord)
}

export async function recentAudit(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string | null,
  limit = 100,
): Promise<AuditRecord[]> {
  const { db } = deps
  return (await repo.listRecent(db, merchantId, limit)).map(toRecord)
}
