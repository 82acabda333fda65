import { CrmErrors } from './crm.errors.js'
import { verifyParams } from '@kaguan/crm-sdk'
import type { Clock } from '../../shared/clock.js'
import type { FieldCipher } from '../../shared/field-crypto.js'
import { acceptOnce, forgetMessage } from '../inbox/index.js'
import { crmCallPolicy } from '../merchants/index.js'
import { templateOwner } from '../templates/index.js'
import type { AppDeps } from '../../deps.js'

/** How far a signed call's timestamp may be from our clock. */
export const REPLAY_WINDOW_MS = 5 * 60_000

/** `&` then a parameter-like name then `=`: what the sign string cannot tell from a separator. */
const AMBIGUOUS_VALUE = /&[^&=]*=/

/** A signed call's timestamp (ms or s since the epoch) must be within the window of our clock. */
function checkTimestamp(clock: Clock, timestamp: string): void {
  const sent = Number(timestamp)
  if (
    !/^\d{10,13}$/.test(timestamp) ||
    Math.abs(clock.now().getTime() - (timestamp.length === 10 ? sent * 1000 : sent)) >
      REPLAY_WINDOW_MS
  ) {
    throw CrmErrors.timestampSkew(timestamp, clock.now().getTime())
  }
}

/**
 * Checks a signed call from a merchant's systems (the CRM's `/card/update`, a till): the merchant
 * is the one owning `templateId`; the signature (`sign` or `signature`) must verify with the
 * merchant's CRM public key by the seed's rule; a `timestamp` outside the window is refused (with
 * or without a nonce), a `nonce` only with a timestamp and only once; strict mode requires both.
 * Returns the merchant id.
 */
export async function verifyCrmCall(
  deps: { clock: Clock; cipher: FieldCipher } & Pick<AppDeps, 'db'>,
  params: Record<string, string>,
): Promise<string> {
  const { merchantId, nonce } = await verifyCrmSignature(deps, params)
  if (nonce !== undefined) {
    await claimNonce(deps, merchantId, nonce)
  }
  return merchantId
}

/** A signed call that passed every check but the nonce's: whose it is, and the nonce to claim. */
export interface VerifiedCrmCall {
  merchantId: string
  /** To claim with `claimNonce` in the transaction that makes the change (when present). */
  nonce: string | undefined
}

/**
 * `verifyCrmCall` without recording the nonce: the write routes claim it with `claimNonce`
 * inside the (group-committed) transaction of the change, so the nonce and the change commit
 * together or not at all, and a refused change leaves the nonce free for a retry.
 */
export async function verifyCrmSignature(
  deps: { clock: Clock; cipher: FieldCipher } & Pick<AppDeps, 'db'>,
  params: Record<string, string>,
): Promise<VerifiedCrmCall> {
  if (!params.sign && !params.signature) {
    throw CrmErrors.signatureMissing()
  }
  // The seed's sign string does not escape `&` or `=`: a value carrying `&level=GOLD` signs the same
  // as a separate `level` parameter, so one signed request could be read as another.
  const ambiguous = Object.keys(params).find(
    (name) => name !== 'sign' && name !== 'signature' && AMBIGUOUS_VALUE.test(params[name]!),
  )
  if (ambiguous) {
    throw CrmErrors.signAmbiguous(ambiguous)
  }
  if (!params.templateId) {
    throw CrmErrors.templateIdMissing()
  }
  // kaguan's own id (shown first in the console) is the most common mix-up; said before any look-up.
  if (/^tpl_/.test(params.templateId)) {
    throw CrmErrors.templateIdIsKaguans(params.templateId)
  }
  // The template says whose key verifies the call: the only look-up before the signature is checked.
  const merchantId = await templateOwner(deps, params.templateId)
  if (!merchantId) {
    throw CrmErrors.templateNotPublished(params.templateId)
  }
  const { acceptedKeys, replayStrict } = await crmCallPolicy(deps, merchantId)
  if (!acceptedKeys.length) {
    throw CrmErrors.keyNotConfigured()
  }
  // During a CRM key rotation two keys are accepted (the new one first); a cached list may hold a
  // key whose window has ended since, so the end is checked here too.
  const now = deps.clock.nowIso()
  if (
    !acceptedKeys.some(
      (k) =>
        (k.acceptedUntil === null || k.acceptedUntil > now) && verifyParams(params, k.publicKey),
    )
  ) {
    throw CrmErrors.signatureInvalid()
  }

  const { timestamp, nonce } = params
  if (nonce !== undefined && timestamp === undefined) {
    // A nonce is only remembered for the window: without a timestamp it guards nothing after that.
    throw CrmErrors.timestampMissing()
  }
  if (replayStrict && (timestamp === undefined || nonce === undefined)) {
    throw CrmErrors.replayGuardRequired()
  }
  if (timestamp !== undefined) {
    checkTimestamp(deps.clock, timestamp)
  }
  return { merchantId, nonce }
}

/**
 * Records a signed call's nonce, or refuses the call when it was seen (`CRM_NONCE_REPLAYED`).
 * Given a transaction, the nonce is recorded exactly when the change commits.
 */
export async function claimNonce(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  merchantId: string,
  nonce: string,
): Promise<void> {
  if (
    !(await acceptOnce(deps, {
      source: 'crm.nonce',
      messageId: `${merchantId}:${nonce}`,
      merchantId,
    }))
  ) {
    throw CrmErrors.nonceReplayed(nonce)
  }
}

/**
 * Frees a call's nonce after its change failed, so the CRM may resend the same signed request
 * (the nonce is recorded before the change; a failed change must not burn it).
 */
export async function releaseNonce(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  nonce: string | undefined,
): Promise<void> {
  if (nonce !== undefined) {
    await forgetMessage(deps, 'crm.nonce', `${merchantId}:${nonce}`)
  }
}
