import type { Selectable } from 'kysely'

/** `kaguan keys rotate-master` progress: one row per (target master key, part re-encrypted). */
export interface MasterKeyRotationTable {
  /** The id of the key values are re-encrypted under (not the key). */
  target_key_id: string
  /** `merchants`, `members`, … (see master-rotation.service.ts). */
  part: string
  /** The last row id whose batch committed; the next batch starts after it. */
  cursor: string | null
  scanned: number
  rewritten: number
  started_at: string
  updated_at: string
  finished_at: string | null
}
export type MasterKeyRotationRow = Selectable<MasterKeyRotationTable>
