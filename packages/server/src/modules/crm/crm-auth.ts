import { verifyParams } from '@kaguan/crm-sdk'
import type { Clock } from '../../shared/clock.js'
import { AppError, ErrorKind } from '../../shared/errors.js'
import type { FieldCipher } from '../../shared/field-crypto.js'
import { acceptOnce, forgetMessage } from '../inbox/index.js'
import { crmCallPolicy } from '../merchants/index.js'
import { templateByAlipayId } from '../templates/index.js'
import type { AppDeps } from '../../deps.js'

/** How far a signed call's timestamp may be from our clock. */
export const REPLAY_WINDOW_MS = 5 * 60_000

const unauthenticated = (code: string, message: string) =>
  new AppError(ErrorKind.Unauthenticated, code, message)

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
    throw unauthenticated(
      'CRM_TIMESTAMP_SKEW',
      `timestamp ${timestamp} is more than 5 minutes from kaguan's clock (${clock.now().getTime()} ms)`,
    )
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
  if (!params.sign && !params.signature) {
    throw unauthenticated(
      'CRM_SIGNATURE_MISSING',
      'sign is missing: sign the parameters with the CRM private key (see docs/crm-integration.md)',
    )
  }
  // The seed's sign string does not escape `&` or `=`: a value carrying `&level=GOLD` signs the same
  // as a separate `level` parameter, so one signed request could be read as another.
  const ambiguous = Object.keys(params).find(
    (name) => name !== 'sign' && name !== 'signature' && AMBIGUOUS_VALUE.test(params[name]!),
  )
  if (ambiguous) {
    throw new AppError(
      ErrorKind.Invalid,
      'SIGN_AMBIGUOUS',
      `${ambiguous}: a value must not contain "&name=": the sign string could not tell it from another parameter`,
      { field: ambiguous },
    )
  }
  if (!params.templateId) {
    throw new AppError(ErrorKind.Invalid, 'REQUEST_INVALID', 'templateId is required')
  }
  // kaguan's own id (shown first in the console) is the most common mix-up; said before any look-up.
  if (/^tpl_/.test(params.templateId)) {
    throw new AppError(
      ErrorKind.Invalid,
      'CRM_TEMPLATE_ID_KAGUAN',
      `templateId ${params.templateId} is kaguan's own template id: send Alipay's template id (支付宝模板 ID, digits, shown beside it in the console and in openCardInfo's templateId)`,
      { field: 'templateId' },
    )
  }
  // The template says whose key verifies the call: the only look-up before the signature is checked.
  const template = await templateByAlipayId(deps, params.templateId)
  if (!template) {
    throw new AppError(
      ErrorKind.NotFound,
      'TEMPLATE_NOT_FOUND',
      `templateId ${params.templateId} is not a published kaguan template`,
    )
  }
  const merchantId = template.merchantId
  const { publicKey, replayStrict } = await crmCallPolicy(deps, merchantId)
  if (!publicKey) {
    throw unauthenticated(
      'CRM_KEY_NOT_CONFIGURED',
      'the merchant has no CRM public key configured in kaguan, so no call can be verified',
    )
  }
  if (!verifyParams(params, publicKey)) {
    throw unauthenticated(
      'CRM_SIGNATURE_INVALID',
      'the signature does not verify: check the signing rule, the parameters sent and the key pair',
    )
  }

  const { timestamp, nonce } = params
  if (nonce !== undefined && timestamp === undefined) {
    // A nonce is only remembered for the window: without a timestamp it guards nothing after that.
    throw new AppError(
      ErrorKind.Invalid,
      'CRM_TIMESTAMP_MISSING',
      'nonce was sent without timestamp: send both (the nonce is checked within the timestamp window)',
      { field: 'timestamp' },
    )
  }
  if (replayStrict && (timestamp === undefined || nonce === undefined)) {
    throw unauthenticated(
      'CRM_REPLAY_GUARD_REQUIRED',
      'timestamp and nonce are required (strict mode)',
    )
  }
  if (timestamp !== undefined) {
    checkTimestamp(deps.clock, timestamp)
  }
  if (nonce === undefined) {
    return merchantId
  }
  if (
    !(await acceptOnce(deps, {
      source: 'crm.nonce',
      messageId: `${merchantId}:${nonce}`,
      merchantId,
    }))
  ) {
    throw unauthenticated('CRM_NONCE_REPLAYED', `nonce ${nonce} was already used`)
  }
  return merchantId
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
