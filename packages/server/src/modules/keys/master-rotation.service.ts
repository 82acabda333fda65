import type { AppDeps } from '../../deps.js'
import type { ReencryptBatch } from '../../shared/reencrypt.js'
import { membersKeyStatus, reencryptMembers } from '../members/index.js'
import {
  appAuthsKeyStatus,
  merchantsKeyStatus,
  reencryptAppAuths,
  reencryptMerchants,
} from '../merchants/index.js'
import { KeysErrors } from './keys.errors.js'
import * as repo from './keys.repository.js'
import type { MasterKeyRotationRow } from './keys.table.js'

type Deps = Pick<AppDeps, 'db' | 'cipher' | 'clock'>

/**
 * One module's encrypted rows. Each module re-encrypts its own rows (its tables never leave it):
 * a module that stores a new encrypted column or table adds its part here.
 */
export interface RotationPart {
  name: string
  reencrypt(
    deps: Pick<AppDeps, 'db' | 'cipher'>,
    after: string | null,
    limit: number,
  ): Promise<ReencryptBatch>
  status(deps: Pick<AppDeps, 'db' | 'cipher'>): Promise<{ rows: number; stale: number }>
}

export const ROTATION_PARTS: readonly RotationPart[] = [
  { name: 'merchants', reencrypt: reencryptMerchants, status: merchantsKeyStatus },
  { name: 'members', reencrypt: reencryptMembers, status: membersKeyStatus },
  { name: 'app authorisations', reencrypt: reencryptAppAuths, status: appAuthsKeyStatus },
]

export interface RotationProgress {
  part: string
  /** Rows of this part (counted at the start of the run; rows added meanwhile may push past it). */
  rows: number
  scanned: number
  rewritten: number
  finished: boolean
}

export interface RotateMasterOptions {
  batchSize?: number
  /** Pause between batches (spares a busy database). */
  pauseMs?: number
  onProgress?: (progress: RotationProgress) => void
  /** Stops after the batch in progress (Ctrl-C); a later run continues. */
  signal?: AbortSignal
}

export interface RotateMasterResult {
  keyId: string
  parts: RotationProgress[]
  /** Every stored value is under the current key: the previous one is no longer needed. */
  complete: boolean
  /** Stopped by the signal before the end. */
  interrupted: boolean
}

/** How often a part may be swept again when the final check finds values left (written by a process with the old key). */
const MAX_PASSES = 3

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Re-encrypts every stored secret and personal field under the current master key
 * (`kaguan keys rotate-master`). Rows go in primary-key order, in batches of `batchSize`; each batch
 * and its progress row commit in one transaction, so a run killed at any point continues from the
 * last committed batch (a batch done twice is harmless: a value already under the current key is
 * left alone, and a row changed meanwhile is not overwritten). At the end every part is counted
 * again; values still under another key (written by a process not yet given the new key) get
 * another pass; if some remain after that, MASTER_ROTATION_INCOMPLETE.
 */
export async function rotateMasterKey(
  deps: Deps,
  options: RotateMasterOptions = {},
): Promise<RotateMasterResult> {
  const batchSize = options.batchSize ?? 200
  const keyId = deps.cipher.keyId
  const parts: RotationProgress[] = []
  for (const part of ROTATION_PARTS) {
    const { rows } = await part.status(deps)
    const saved = await repo.find(deps.db, keyId, part.name)
    parts.push({
      part: part.name,
      rows,
      scanned: saved?.scanned ?? 0,
      rewritten: saved?.rewritten ?? 0,
      finished: saved?.finished_at != null,
    })
  }

  for (let pass = 0; pass < MAX_PASSES; pass++) {
    for (const [i, part] of ROTATION_PARTS.entries()) {
      const progress = parts[i]!
      if (progress.finished) {
        options.onProgress?.(progress)
        continue
      }
      if (!(await sweep(deps, part, progress, batchSize, options))) {
        return { keyId, parts, complete: false, interrupted: true }
      }
    }
    let stale = 0
    for (const [i, part] of ROTATION_PARTS.entries()) {
      const left = (await part.status(deps)).stale
      if (left > 0) {
        // Swept already, yet values under another key remain: sweep this part again from the start.
        stale += left
        await restart(deps, part.name, parts[i]!)
      }
    }
    if (stale === 0) {
      return { keyId, parts, complete: true, interrupted: false }
    }
    if (pass === MAX_PASSES - 1) {
      throw KeysErrors.incomplete(stale, keyId)
    }
  }
  /* c8 ignore next */
  return { keyId, parts, complete: false, interrupted: false }
}

/** Sweeps one part from its saved cursor to its end; false when stopped by the signal. */
async function sweep(
  deps: Deps,
  part: RotationPart,
  progress: RotationProgress,
  batchSize: number,
  options: RotateMasterOptions,
): Promise<boolean> {
  const keyId = deps.cipher.keyId
  // Bounded: the rows counted at the start, in batches, plus room for rows added meanwhile.
  const maxBatches = Math.ceil(progress.rows / batchSize) + 1_000
  for (let n = 0; n < maxBatches; n++) {
    if (options.signal?.aborted) {
      return false
    }
    const batch = await deps.db.transaction().execute(async (trx) => {
      const saved = await repo.find(trx, keyId, part.name)
      const now = deps.clock.nowIso()
      const result = await part.reencrypt(
        { db: trx, cipher: deps.cipher },
        saved?.cursor ?? null,
        batchSize,
      )
      const row: MasterKeyRotationRow = {
        target_key_id: keyId,
        part: part.name,
        cursor: result.cursor,
        scanned: (saved?.scanned ?? 0) + result.scanned,
        rewritten: (saved?.rewritten ?? 0) + result.rewritten,
        started_at: saved?.started_at ?? now,
        updated_at: now,
        finished_at: result.done ? now : null,
      }
      await repo.save(trx, row)
      return row
    })
    progress.scanned = Number(batch.scanned)
    progress.rewritten = Number(batch.rewritten)
    progress.finished = batch.finished_at !== null
    options.onProgress?.(progress)
    if (progress.finished) {
      return true
    }
    if (options.pauseMs) {
      await sleep(options.pauseMs)
    }
  }
  return true
}

async function restart(deps: Deps, part: string, progress: RotationProgress): Promise<void> {
  const now = deps.clock.nowIso()
  const saved = await repo.find(deps.db, deps.cipher.keyId, part)
  await repo.save(deps.db, {
    target_key_id: deps.cipher.keyId,
    part,
    cursor: null,
    scanned: 0,
    rewritten: saved?.rewritten ?? 0,
    started_at: saved?.started_at ?? now,
    updated_at: now,
    finished_at: null,
  })
  progress.scanned = 0
  progress.finished = false
}

/** How far a rotation to the current key is, without changing anything. */
export async function masterKeyStatus(
  deps: Deps,
): Promise<{ keyId: string; parts: { part: string; rows: number; stale: number }[] }> {
  const parts = []
  for (const part of ROTATION_PARTS) {
    parts.push({ part: part.name, ...(await part.status(deps)) })
  }
  return { keyId: deps.cipher.keyId, parts }
}
