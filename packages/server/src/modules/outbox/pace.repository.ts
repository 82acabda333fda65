import { sql } from 'kysely'
import type { DatabaseDialect } from '../../config.js'
import type { Executor } from '../../db/db.js'

/** Makes sure the pace row of `key` exists (a first slot of `nowUs`); a no-op when it does. */
export async function ensurePaceRow(db: Executor, key: string, nowUs: number): Promise<void> {
  await db
    .insertInto('delivery_pace')
    .values({ pace_key: key, next_slot_us: nowUs })
    .onConflict((oc) => oc.column('pace_key').doNothing())
    .execute()
}

/**
 * Takes `count` consecutive call slots of `key`, `intervalUs` apart, starting at the row's next free
 * slot or now, whichever is later; returns the first one (µs since the epoch), or undefined when the
 * row does not exist yet. One UPDATE … RETURNING: atomic on both engines (a row lock on PostgreSQL,
 * the one writer on SQLite), so no two processes ever get the same slot.
 */
export async function takeSlots(
  db: Executor,
  dialect: DatabaseDialect,
  key: string,
  args: { count: number; intervalUs: number; nowUs: number },
): Promise<number | undefined> {
  const span = args.count * args.intervalUs
  const now = sql<number>`cast(${args.nowUs} as bigint)`
  const start =
    dialect === 'postgres'
      ? sql<number>`greatest(next_slot_us, ${now})`
      : sql<number>`max(next_slot_us, ${now})`
  const row = await db
    .updateTable('delivery_pace')
    .set({ next_slot_us: sql<number>`${start} + cast(${span} as bigint)` })
    .where('pace_key', '=', key)
    .returning('next_slot_us')
    .executeTakeFirst()
  return row ? Number(row.next_slot_us) - span : undefined
}
