import type { AppDeps } from '../../deps.js'
import { sql } from 'kysely'

/** Stamp ledger entries by type (DEPOSIT, FREEZE, COMMIT, CANCEL, CONSUME), all merchants. */
export async function stampEntryFigures({
  db,
}: Pick<AppDeps, 'db'>): Promise<{ kind: string; count: number }[]> {
  const rows = await db
    .selectFrom('stamp_entries')
    .select(['type', sql<number>`count(*)`.as('n')])
    .groupBy('type')
    .execute()
  return rows.map((r) => ({ kind: r.type, count: Number(r.n) }))
}
