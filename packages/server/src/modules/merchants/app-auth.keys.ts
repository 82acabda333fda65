import type { AppDeps } from '../../deps.js'
import type { ReencryptBatch } from '../../shared/reencrypt.js'
import type { AppAuthRow } from './app-auth.table.js'
import { REFRESH_CONTEXT, STATE_CONTEXT, TOKEN_CONTEXT } from './app-auth.service.js'

type EncryptedColumn = 'state_enc' | 'app_auth_token_enc' | 'refresh_token_enc'

const ENCRYPTED: readonly (readonly [EncryptedColumn, string])[] = [
  ['state_enc', STATE_CONTEXT],
  ['app_auth_token_enc', TOKEN_CONTEXT],
  ['refresh_token_enc', REFRESH_CONTEXT],
]

/**
 * A master-key rotation's step over the merchants' app authorisations (the ISV's app_auth_tokens,
 * refresh tokens and pending links' states), as merchants.keys.service.ts does for the merchants.
 */
export async function reencryptAppAuths(
  deps: Pick<AppDeps, 'db' | 'cipher'>,
  after: string | null,
  limit: number,
): Promise<ReencryptBatch> {
  const { db, cipher } = deps
  let q = db.selectFrom('merchant_app_auths').selectAll()
  if (after !== null) {
    q = q.where('merchant_id', '>', after)
  }
  const rows: AppAuthRow[] = await q.orderBy('merchant_id').limit(limit).execute()
  let rewritten = 0
  for (const row of rows) {
    const changes: Partial<Record<EncryptedColumn, string>> = {}
    for (const [column, context] of ENCRYPTED) {
      const value = row[column]
      if (value !== null && !cipher.isCurrent(value)) {
        changes[column] = cipher.encrypt(cipher.decrypt(value, context), context)
      }
    }
    if (Object.keys(changes).length === 0) {
      continue
    }
    // Only if nothing changed since the read (a refresh meanwhile wrote under the current key).
    let update = db
      .updateTable('merchant_app_auths')
      .set(changes)
      .where('merchant_id', '=', row.merchant_id)
    for (const [column] of ENCRYPTED) {
      const value = row[column]
      update = value === null ? update.where(column, 'is', null) : update.where(column, '=', value)
    }
    if (Number((await update.executeTakeFirst()).numUpdatedRows) > 0) {
      rewritten += 1
    }
  }
  return {
    scanned: rows.length,
    rewritten,
    cursor: rows.at(-1)?.merchant_id ?? after,
    done: rows.length < limit,
  }
}

/** App authorisations and how many still hold a value not under the current master key. */
export async function appAuthsKeyStatus(
  deps: Pick<AppDeps, 'db' | 'cipher'>,
): Promise<{ rows: number; stale: number }> {
  const prefix = `v2.${deps.cipher.keyId}.%`
  const count = (stale: boolean) => {
    let q = deps.db
      .selectFrom('merchant_app_auths')
      .select((eb) => eb.fn.countAll<number>().as('n'))
    if (stale) {
      q = q.where((eb) =>
        eb.or(ENCRYPTED.map(([c]) => eb.and([eb(c, 'is not', null), eb(c, 'not like', prefix)]))),
      )
    }
    return q.executeTakeFirstOrThrow().then((r) => Number(r.n))
  }
  return { rows: await count(false), stale: await count(true) }
}
