import { sql } from 'kysely'
import type { Executor } from '../../db/db.js'
import type { AuditRow, NewAuditRow } from './audit.table.js'

export async function insert(db: Executor, row: NewAuditRow): Promise<void> {
  await db.insertInto('audit_log').values(row).execute()
}

export function listByTarget(
  db: Executor,
  targetType: string,
  targetId: string,
  limit: number,
): Promise<AuditRow[]> {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('target_type', '=', targetType)
    .where('target_id', '=', targetId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}

export function listRecent(
  db: Executor,
  merchantId: string | null,
  limit: number,
): Promise<AuditRow[]> {
  let q = db.selectFrom('audit_log').selectAll()
  if (merchantId) {
    q = q.where('merchant_id', '=', merchantId)
  }
  return q.orderBy('id', 'desc').limit(limit).execute()
}

/** Conditions on the audit log; all given must hold. Times are ISO instants, `to` exclusive. */
export interface AuditRowFilter {
  merchantId?: string
  actor?: string
  /** An action, or a dotted prefix of actions (`template` finds `template.publish`). */
  action?: string
  targetType?: string
  targetId?: string
  /** Either the type or the id of the object. */
  targetTypeOrId?: string
  from?: string
  to?: string
}

/** `value` as a LIKE pattern matching itself only (the wildcards escaped with `\`). */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`)
}

function filtered(db: Executor, by: AuditRowFilter) {
  let q = db.selectFrom('audit_log')
  if (by.merchantId) {
    q = q.where('merchant_id', '=', by.merchantId)
  }
  if (by.actor) {
    q = q.where('actor', '=', by.actor)
  }
  if (by.action) {
    const prefix = `${likeLiteral(by.action)}.%`
    q = q.where((eb) =>
      eb.or([
        eb('action', '=', by.action!),
        sql<boolean>`${eb.ref('action')} like ${prefix} escape '\\'`,
      ]),
    )
  }
  if (by.targetType) {
    q = q.where('target_type', '=', by.targetType)
  }
  if (by.targetId) {
    q = q.where('target_id', '=', by.targetId)
  }
  if (by.targetTypeOrId) {
    const v = by.targetTypeOrId
    q = q.where((eb) => eb.or([eb('target_type', '=', v), eb('target_id', '=', v)]))
  }
  if (by.from) {
    q = q.where('created_at', '>=', by.from)
  }
  if (by.to) {
    q = q.where('created_at', '<', by.to)
  }
  return q
}

/** One page of the audit log and how many entries match in all. */
export async function page(
  db: Executor,
  by: AuditRowFilter,
  request: { order: 'asc' | 'desc'; offset: number; limit: number },
): Promise<{ rows: AuditRow[]; total: number }> {
  const rows = await filtered(db, by)
    .selectAll()
    .orderBy('created_at', request.order)
    .orderBy('id', request.order)
    .limit(request.limit)
    .offset(request.offset)
    .execute()
  const count = await filtered(db, by)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return { rows, total: Number(count.n) }
}
