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
