import type { AcceptedCrmKey } from './crm-policy-cache.js'
export type { AcceptedCrmKey }
import { ALIPAY_CERT_CONTEXT, APP_CERT_CONTEXT, ROOT_CERT_CONTEXT } from './alipay-certs.service.js'
import { randomBytes } from 'node:crypto'
import { MerchantErrors } from './merchants.errors.js'
import {
  normalizePrivateKey,
  normalizePublicKey,
  publicKeyFingerprint,
  publicKeyOf,
} from '@kaguan/alipay'
import type { AppDeps } from '../../deps.js'
import { invalidFields } from '../../shared/errors.js'
import type { ReencryptBatch } from '../../shared/reencrypt.js'
import { generateRsaKeyPair, pemBody } from '../../shared/rsa-keys.js'
import { recordAudit } from '../audit/index.js'
import * as repo from './merchants.repository.js'
import {
  APP_AUTH_TOKEN_CONTEXT,
  CRM_TOKEN_CONTEXT,
  PRIVATE_KEY_CONTEXT,
  requireRow,
  type Actor,
  type MerchantDeps,
} from './merchants.service.js'
import type { MerchantRow, MerchantUpdate } from './merchants.table.js'

/**
 * Key custody (issue 14): each of a merchant's keys is rotated with an overlap, so that no call is
 * refused while the other side (Alipay, the CRM) catches up.
 *
 * - App private key: a new key is staged (generated here, or uploaded); the console shows its public
 *   key for Alipay's open platform. Calls keep being signed with the old key until the operator
 *   activates the new one; meanwhile a call Alipay refuses as badly signed is tried once with the
 *   staged key (Alipay already has the new public key). Activation drops the old key.
 * - CRM public key: the new key is used at once and the old one is accepted beside it until the
 *   window ends or the operator retires it (`acceptedCrmKeys`).
 * - CRM token: a new token is issued beside the old; kaguan sends the new one first and the old one
 *   when the CRM refuses the new (401/403), and notes when the CRM first accepts the new one. The
 *   old token is dropped only when the operator retires it (the console says when that is safe).
 *
 * Every step is audited (`merchant.keys.*`), keys only by fingerprint, tokens never.
 */

type Deps = MerchantDeps & Pick<AppDeps, 'db'>

const HOUR_MS = 3_600_000
/** How long the old CRM public key stays accepted unless the operator says otherwise. */
export const DEFAULT_CRM_KEY_OVERLAP_HOURS = 24 * 7
export const MAX_CRM_KEY_OVERLAP_HOURS = 24 * 90

/** The keys and tokens of one merchant as the console shows them: fingerprints and dates only. */
export interface KeyCustodyView {
  appKey: {
    fingerprint: string | null
    /** Staged, not yet used to sign: its public key goes to Alipay's open platform (应用公钥). */
    next: { fingerprint: string; publicKey: string; stagedAt: string } | null
  }
  crmKey: {
    fingerprint: string | null
    /** The replaced key, accepted until `acceptedUntil` (when still in the future). */
    old: { fingerprint: string; acceptedUntil: string; accepted: boolean } | null
  }
  crmToken: {
    set: boolean
    next: { issuedAt: string; seenAt: string | null } | null
  }
}

const fingerprintOf = (publicKey: string) => publicKeyFingerprint(publicKey)

function oldCrmKeyAccepted(row: MerchantRow, nowIso: string): boolean {
  return Boolean(
    row.crm_public_key_old && row.crm_public_key_old_until && row.crm_public_key_old_until > nowIso,
  )
}

/** The accepted keys of a merchant row at a moment: the current one first. */
export function acceptedKeysOf(row: MerchantRow, nowIso: string): AcceptedCrmKey[] {
  const keys: AcceptedCrmKey[] = []
  if (row.crm_public_key) {
    keys.push({ publicKey: row.crm_public_key, acceptedUntil: null })
  }
  if (oldCrmKeyAccepted(row, nowIso)) {
    keys.push({ publicKey: row.crm_public_key_old!, acceptedUntil: row.crm_public_key_old_until })
  }
  return keys
}

/**
 * The CRM public keys that verify the merchant's signed calls now, the current one first: one read,
 * cacheable (an entry stops counting at its `acceptedUntil`; a rotation step changes the list).
 */
export async function acceptedCrmKeys(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  merchantId: string,
): Promise<AcceptedCrmKey[]> {
  return acceptedKeysOf(await requireRow(deps, merchantId), deps.clock.nowIso())
}

function viewOf(row: MerchantRow, deps: Deps): KeyCustodyView {
  const now = deps.clock.nowIso()
  const current = row.alipay_private_key_enc
    ? deps.cipher.decrypt(row.alipay_private_key_enc, PRIVATE_KEY_CONTEXT)
    : null
  const next = row.alipay_private_key_next_enc
    ? publicKeyOf(deps.cipher.decrypt(row.alipay_private_key_next_enc, PRIVATE_KEY_CONTEXT))
    : null
  return {
    appKey: {
      fingerprint: current ? fingerprintOf(publicKeyOf(current)) : null,
      next: next
        ? {
            fingerprint: fingerprintOf(next),
            publicKey: pemBody(next),
            stagedAt: row.alipay_private_key_next_at ?? now,
          }
        : null,
    },
    crmKey: {
      fingerprint: row.crm_public_key ? fingerprintOf(row.crm_public_key) : null,
      old:
        row.crm_public_key_old && row.crm_public_key_old_until
          ? {
              fingerprint: fingerprintOf(row.crm_public_key_old),
              acceptedUntil: row.crm_public_key_old_until,
              accepted: oldCrmKeyAccepted(row, now),
            }
          : null,
    },
    crmToken: {
      set: row.crm_token_enc !== null,
      next: row.crm_token_next_enc
        ? {
            issuedAt: row.crm_token_next_at ?? now,
            seenAt: row.crm_token_next_seen_at,
          }
        : null,
    },
  }
}

export async function keyCustody(deps: Deps, id: string): Promise<KeyCustodyView> {
  return viewOf(await requireRow(deps, id), deps)
}

async function audited(
  deps: Deps,
  id: string,
  actor: Actor,
  action: string,
  before: object,
  after: object,
): Promise<void> {
  await recordAudit(deps, {
    merchantId: id,
    ...actor,
    action: `merchant.keys.${action}`,
    target: { type: 'merchant', id },
    before,
    after,
  })
}

const NO_NEXT_CRM_TOKEN = {
  crm_token_next_enc: null,
  crm_token_next_at: null,
  crm_token_next_seen_at: null,
} as const

/**
 * One step that finishes or drops what a rotation has pending (`pending` of the row; refused when
 * there is none): the row changed, the step audited with that part of the view before and after.
 */
async function settlePending(
  deps: Deps,
  id: string,
  actor: Actor,
  step: {
    part: 'appKey' | 'crmKey' | 'crmToken'
    what: string
    pending: (row: MerchantRow) => string | null
    action: string
    changes: (pending: string) => MerchantUpdate
  },
): Promise<KeyCustodyView> {
  const row = await requireRow(deps, id)
  const pending = step.pending(row)
  if (!pending) {
    throw MerchantErrors.nothingPending(id, step.what)
  }
  const before = viewOf(row, deps)[step.part]
  await repo.update(deps.db, id, { ...step.changes(pending), updated_at: deps.clock.nowIso() })
  const view = await keyCustody(deps, id)
  await audited(deps, id, actor, step.action, before, view[step.part])
  return view
}

/**
 * Stages a new app private key: the given one (PEM or base64, PKCS#8 or PKCS#1) or, without one, a
 * new RSA2 pair made here. Returns the custody view, whose `appKey.next.publicKey` is what the
 * operator uploads to Alipay. A staged key not activated yet is replaced.
 */
export async function stageAppKey(
  deps: Deps,
  id: string,
  input: { privateKey?: string },
  actor: Actor,
): Promise<KeyCustodyView> {
  const { db } = deps
  const row = await requireRow(deps, id)
  if (!row.alipay_private_key_enc) {
    throw MerchantErrors.alipayNotConfigured(id)
  }
  let privatePem: string
  if (input.privateKey !== undefined && input.privateKey.trim() !== '') {
    try {
      privatePem = normalizePrivateKey(input.privateKey)
    } catch {
      throw invalidFields('KEY_ROTATION_INVALID', [
        {
          field: 'privateKey',
          message: 'is not an RSA private key (PKCS#8 or PKCS#1, PEM or base64)',
        },
      ])
    }
  } else {
    privatePem = generateRsaKeyPair().privateKeyPem
  }
  const current = deps.cipher.decrypt(row.alipay_private_key_enc, PRIVATE_KEY_CONTEXT)
  const fingerprint = fingerprintOf(publicKeyOf(privatePem))
  if (fingerprint === fingerprintOf(publicKeyOf(current))) {
    throw invalidFields('KEY_ROTATION_INVALID', [
      { field: 'privateKey', message: 'is the key in use already; give a new one' },
    ])
  }
  const before = viewOf(row, deps).appKey
  await repo.update(db, id, {
    alipay_private_key_next_enc: deps.cipher.encrypt(privatePem, PRIVATE_KEY_CONTEXT),
    alipay_private_key_next_at: deps.clock.nowIso(),
    updated_at: deps.clock.nowIso(),
  })
  const view = await keyCustody(deps, id)
  await audited(deps, id, actor, 'app_key.stage', before, {
    ...view.appKey,
    generated: input.privateKey === undefined || input.privateKey.trim() === '',
  })
  return view
}

/** Signs with the staged app key from now on and forgets the old one (after the upload to Alipay). */
export async function activateAppKey(deps: Deps, id: string, actor: Actor) {
  return settlePending(deps, id, actor, {
    part: 'appKey',
    what: 'staged app private key',
    pending: (row) => row.alipay_private_key_next_enc,
    action: 'app_key.activate',
    changes: (next) => ({
      alipay_private_key_enc: next,
      alipay_private_key_next_enc: null,
      alipay_private_key_next_at: null,
    }),
  })
}

/** Drops a staged app key that will not be used (e.g. never uploaded). */
export async function discardAppKey(deps: Deps, id: string, actor: Actor) {
  return settlePending(deps, id, actor, {
    part: 'appKey',
    what: 'staged app private key',
    pending: (row) => row.alipay_private_key_next_enc,
    action: 'app_key.discard',
    changes: () => ({ alipay_private_key_next_enc: null, alipay_private_key_next_at: null }),
  })
}

/**
 * Verifies the CRM's calls with a new public key from now on, accepting the current one beside it
 * for `overlapHours` (default a week): the CRM switches its signing key whenever it is ready.
 */
export async function addCrmKey(
  deps: Deps,
  id: string,
  input: { publicKey: string; overlapHours?: number },
  actor: Actor,
): Promise<KeyCustodyView> {
  const { db } = deps
  const row = await requireRow(deps, id)
  let publicPem: string
  try {
    publicPem = normalizePublicKey(input.publicKey)
  } catch {
    throw invalidFields('KEY_ROTATION_INVALID', [
      { field: 'publicKey', message: 'is not an RSA public key (PEM or base64)' },
    ])
  }
  const hours = input.overlapHours ?? DEFAULT_CRM_KEY_OVERLAP_HOURS
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_CRM_KEY_OVERLAP_HOURS) {
    throw invalidFields('KEY_ROTATION_INVALID', [
      {
        field: 'overlapHours',
        message: `must be a whole number from 1 to ${MAX_CRM_KEY_OVERLAP_HOURS}`,
      },
    ])
  }
  if (!row.crm_public_key) {
    throw MerchantErrors.nothingPending(
      id,
      'CRM public key to replace (set one in the CRM settings)',
    )
  }
  if (fingerprintOf(publicPem) === fingerprintOf(row.crm_public_key)) {
    throw invalidFields('KEY_ROTATION_INVALID', [
      { field: 'publicKey', message: 'is the key in use already; give the CRM’s new public key' },
    ])
  }
  const now = deps.clock.nowIso()
  if (oldCrmKeyAccepted(row, now)) {
    // A third key would silently drop the oldest one while its window is still open.
    throw MerchantErrors.rotationInProgress(id, 'CRM public key', 'retire the old key')
  }
  const before = viewOf(row, deps).crmKey
  await repo.update(db, id, {
    crm_public_key: publicPem,
    crm_public_key_old: row.crm_public_key,
    crm_public_key_old_until: new Date(deps.clock.now().getTime() + hours * HOUR_MS).toISOString(),
    updated_at: now,
  })
  const view = await keyCustody(deps, id)
  await audited(deps, id, actor, 'crm_key.add', before, { ...view.crmKey, overlapHours: hours })
  return view
}

/** Stops accepting the replaced CRM public key before its window ends. */
export async function retireOldCrmKey(deps: Deps, id: string, actor: Actor) {
  return settlePending(deps, id, actor, {
    part: 'crmKey',
    what: 'old CRM public key',
    pending: (row) => row.crm_public_key_old,
    action: 'crm_key.retire_old',
    changes: () => ({ crm_public_key_old: null, crm_public_key_old_until: null }),
  })
}

/**
 * Issues a new CRM token beside the current one (the given one, or 32 random bytes, base64url).
 * The answer carries it once, to configure in the CRM; kaguan keeps only its encryption.
 */
export async function issueCrmToken(
  deps: Deps,
  id: string,
  input: { token?: string },
  actor: Actor,
): Promise<KeyCustodyView & { issuedToken: string }> {
  const { db } = deps
  const row = await requireRow(deps, id)
  if (!row.crm_token_enc) {
    throw MerchantErrors.nothingPending(id, 'CRM token to replace (set one in the CRM settings)')
  }
  if (row.crm_token_next_enc) {
    throw MerchantErrors.rotationInProgress(
      id,
      'CRM token',
      'retire the old token or discard the new one',
    )
  }
  const token = input.token?.trim() || randomBytes(32).toString('base64url')
  if (token.length < 16 || /\s/.test(token)) {
    throw invalidFields('KEY_ROTATION_INVALID', [
      { field: 'token', message: 'must be at least 16 characters, without spaces' },
    ])
  }
  if (token === deps.cipher.decrypt(row.crm_token_enc, CRM_TOKEN_CONTEXT)) {
    throw invalidFields('KEY_ROTATION_INVALID', [
      { field: 'token', message: 'is the token in use already' },
    ])
  }
  const before = viewOf(row, deps).crmToken
  await repo.update(db, id, {
    crm_token_next_enc: deps.cipher.encrypt(token, CRM_TOKEN_CONTEXT),
    crm_token_next_at: deps.clock.nowIso(),
    crm_token_next_seen_at: null,
    updated_at: deps.clock.nowIso(),
  })
  const view = await keyCustody(deps, id)
  await audited(deps, id, actor, 'crm_token.issue', before, {
    ...view.crmToken,
    generated: !input.token?.trim(),
  })
  return { ...view, issuedToken: token }
}

/** Sends only the new CRM token from now on (the CRM has it); the old one is forgotten. */
export async function retireOldCrmToken(deps: Deps, id: string, actor: Actor) {
  return settlePending(deps, id, actor, {
    part: 'crmToken',
    what: 'new CRM token',
    pending: (row) => row.crm_token_next_enc,
    action: 'crm_token.retire_old',
    changes: (next) => ({ crm_token_enc: next, ...NO_NEXT_CRM_TOKEN }),
  })
}

/** Drops an issued CRM token that will not be used; the current one stays. */
export async function discardCrmToken(deps: Deps, id: string, actor: Actor) {
  return settlePending(deps, id, actor, {
    part: 'crmToken',
    what: 'new CRM token',
    pending: (row) => row.crm_token_next_enc,
    action: 'crm_token.discard',
    changes: () => NO_NEXT_CRM_TOKEN,
  })
}

/** Notes, once, that the CRM accepted the new token (the console then says the old can go). */
export async function noteCrmTokenSeen(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  id: string,
): Promise<void> {
  const { db } = deps
  await repo.markNextTokenSeen(db, id, deps.clock.nowIso())
}

const ENCRYPTED = [
  ['alipay_private_key_enc', PRIVATE_KEY_CONTEXT],
  ['alipay_private_key_next_enc', PRIVATE_KEY_CONTEXT],
  ['alipay_app_auth_token_enc', APP_AUTH_TOKEN_CONTEXT],
  ['crm_token_enc', CRM_TOKEN_CONTEXT],
  ['crm_token_next_enc', CRM_TOKEN_CONTEXT],
  ['alipay_app_cert_enc', APP_CERT_CONTEXT],
  ['alipay_public_cert_enc', ALIPAY_CERT_CONTEXT],
  ['alipay_root_cert_enc', ROOT_CERT_CONTEXT],
] as const

/** A master-key rotation's step over the merchants' stored keys and tokens (see members.keys.ts). */
export async function reencryptMerchants(
  deps: Pick<AppDeps, 'db' | 'cipher'>,
  after: string | null,
  limit: number,
): Promise<ReencryptBatch> {
  const { db, cipher } = deps
  const rows = await repo.encryptedAfter(db, after, limit)
  let rewritten = 0
  for (const row of rows) {
    const changes: Record<string, string> = {}
    for (const [column, context] of ENCRYPTED) {
      const value = row[column]
      if (value !== null && !cipher.isCurrent(value)) {
        changes[column] = cipher.encrypt(cipher.decrypt(value, context), context)
      }
    }
    if (Object.keys(changes).length && (await repo.replaceEncrypted(db, row, changes))) {
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

/** Merchants and how many still hold a value not under the current master key. */
export async function merchantsKeyStatus(
  deps: Pick<AppDeps, 'db' | 'cipher'>,
): Promise<{ rows: number; stale: number }> {
  const { db, cipher } = deps
  return {
    rows: await repo.countAll(db),
    stale: await repo.countNotUnderKey(
      db,
      ENCRYPTED.map(([c]) => c),
      cipher.keyId,
    ),
  }
}
