import type { AppDeps } from '../../deps.js'
import { maskerFor } from '../../shared/mask.js'
import * as repo from './audit.repository.js'
import { toRecord, type AuditRecord } from './audit.view.js'

export type { AuditLogTable } from './audit.table.js'
export type { AuditRecord } from './audit.view.js'
export { AuditErrors } from './audit.errors.js'
export { searchAudit, type AuditFilter } from './audit.service.js'

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
