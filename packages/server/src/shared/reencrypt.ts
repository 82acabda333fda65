/**
 * One batch of a master-key rotation over one module's rows (`kaguan keys rotate-master`): each
 * module that stores encrypted values exposes a function `(deps, after, limit) => ReencryptBatch`
 * that re-encrypts its rows after the cursor, in primary-key order, under the current master key.
 */
export interface ReencryptBatch {
  /** Rows looked at. */
  scanned: number
  /** Rows whose values were written again under the current key. */
  rewritten: number
  /** The last row looked at: where the next batch starts. */
  cursor: string | null
  /** No rows after this batch. */
  done: boolean
}
