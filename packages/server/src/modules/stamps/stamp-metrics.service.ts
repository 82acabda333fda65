import { sql } from 'kysely'
import type { Executor } from '../../db/db.js'

/** Stamp ledger entries by type (DEPOSIT, FREEZE, COMMIT, CANCEL, CONSUME), all merchants. */
export async function stampEntryFigures(db: Executor): Promise<{ kind: string; count: number }[]> {
  const rows = await db
    .selectFrom('stamp_entries')
    .select(['type', sql<number>`count(*)`.as('n')])
    .groupBy('type')
    .execute()
  return rows.map((r) => ({ kind: r.type, count: Number(r.n) }))
}
