import type { Executor } from '../../db/db.js'
import type { MasterKeyRotationRow } from './keys.table.js'

export function find(
  db: Executor,
  targetKeyId: string,
  part: string,
): Promise<MasterKeyRotationRow | undefined> {
  return db
    .selectFrom('master_key_rotation')
    .selectAll()
    .where('target_key_id', '=', targetKeyId)
    .where('part', '=', part)
    .executeTakeFirst()
}

export function listFor(db: Executor, targetKeyId: string): Promise<MasterKeyRotationRow[]> {
  return db
    .selectFrom('master_key_rotation')
    .selectAll()
    .where('target_key_id', '=', targetKeyId)
    .orderBy('part')
    .execute()
}

/** Saves a part's progress (insert the first time, update after). */
export async function save(db: Executor, row: MasterKeyRotationRow): Promise<void> {
  await db
    .insertInto('master_key_rotation')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['target_key_id', 'part']).doUpdateSet({
        cursor: row.cursor,
        scanned: row.scanned,
        rewritten: row.rewritten,
        updated_at: row.updated_at,
        finished_at: row.finished_at,
      }),
    )
    .execute()
}
