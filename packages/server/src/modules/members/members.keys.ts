import type { AppDeps } from '../../deps.js'
import type { ReencryptBatch } from '../../shared/reencrypt.js'
import * as repo from './members.repository.js'
import { memberCipher, rewrapDataKey } from './member-data-key.js'
import { CTX } from './members.view.js'

/**
 * A master-key rotation's step over the members' personal data: up to `limit` members after
 * `after` (id order), each encrypted field not under the current key decrypted (with the previous
 * key) and encrypted again, its lookup hash recomputed. Run it in a transaction; it commits nothing
 * by itself.
 */
export async function reencryptMembers(
  deps: Pick<AppDeps, 'db' | 'cipher'>,
  after: string | null,
  limit: number,
): Promise<ReencryptBatch> {
  const { db, cipher } = deps
  const rows = await repo.encryptedAfter(db, after, limit)
  let rewritten = 0
  for (const row of rows) {
    const stale = (v: string | null): v is string => v !== null && !cipher.isCurrent(v)
    const changes: Parameters<typeof repo.replaceEncrypted>[3] = {}
    if (row.data_key_enc !== null) {
      // Sealed under the member's own data key: only that key is re-wrapped (the fields stay as
      // they are); the search hashes, keyed by the master key, are computed anew.
      if (stale(row.data_key_enc)) {
        const own = memberCipher(cipher, row.data_key_enc)
        changes.data_key_enc = rewrapDataKey(cipher, row.data_key_enc)
        if (row.mobile_enc) {
          changes.mobile_hash = cipher.lookupHash(
            own.decrypt(row.mobile_enc, CTX.mobile),
            CTX.mobile,
          )
        }
        if (row.cert_no_enc) {
          const certNo = own.decrypt(row.cert_no_enc, CTX.certNo)
          changes.cert_no_hash = cipher.lookupHash(certNo.toUpperCase(), CTX.certNo)
        }
      }
    } else if (stale(row.name_enc)) {
      changes.name_enc = cipher.encrypt(cipher.decrypt(row.name_enc, CTX.name), CTX.name)
    }
    if (row.data_key_enc === null && stale(row.mobile_enc)) {
      const mobile = cipher.decrypt(row.mobile_enc, CTX.mobile)
      changes.mobile_enc = cipher.encrypt(mobile, CTX.mobile)
      changes.mobile_hash = cipher.lookupHash(mobile, CTX.mobile)
    }
    if (row.data_key_enc === null && stale(row.cert_no_enc)) {
      const certNo = cipher.decrypt(row.cert_no_enc, CTX.certNo)
      changes.cert_no_enc = cipher.encrypt(certNo, CTX.certNo)
      changes.cert_no_hash = cipher.lookupHash(certNo.toUpperCase(), CTX.certNo)
    }
    if (Object.keys(changes).length && (await repo.replaceEncrypted(db, row.id, row, changes))) {
      rewritten += 1
    }
  }
  return {
    scanned: rows.length,
    rewritten,
    cursor: rows.at(-1)?.id ?? after,
    done: rows.length < limit,
  }
}

/** Members and how many still hold a field not under the current master key. */
export async function membersKeyStatus(
  deps: Pick<AppDeps, 'db' | 'cipher'>,
): Promise<{ rows: number; stale: number }> {
  const { db, cipher } = deps
  return { rows: await repo.countAll(db), stale: await repo.countNotUnderKey(db, cipher.keyId) }
}
