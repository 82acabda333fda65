import type { AlipayUser } from '../../shared/alipay-user.js'
import { chinaTime } from '../../shared/china-time.js'
import { recordAudit } from '../audit/index.js'
import { getTemplate, templateByAlipayId } from '../templates/index.js'
import { validDate } from './card-open-request.js'
import { CardErrors } from './cards.errors.js'
import * as repo from './cards.repository.js'
import type { ClaimRow } from './cards.table.js'
import { checkClaimAllowed } from './claim-limits.service.js'
import { findHeldCard, resolveMember, type ResolvedMember } from './claim-member.service.js'
import { formProfile, userMessage, type CardsDeps } from './claim.service.js'
import { storeCard } from './claim-store.service.js'

/**
 * The 3.1 极速版 open (docs/alipay-3.1-opencard.md): Alipay calls the SPI
 * `spi.alipay.user.opencard.get` with the submitted form and the card number it will open; kaguan
 * resolves the member exactly as the 3.0 claim does (the CRM's openCardInfo, or its own store) and
 * answers the card's number and opening state. Nothing is a card yet: the open request waits in
 * `claims` (mode 3.1, status started) until Alipay's `alipay.user.opencard.result.notify` commits
 * it (the card stored, cardChange ADD queued) or releases it (status failed).
 */
export interface OpenCardSpiInput {
  /** The merchant whose app the SPI was called for (verified by the caller). */
  merchantId: string
  /** Alipay's template id. */
  templateId: string
  /** Alipay's serial of the open action: the idempotency key of a retried SPI call. */
  outSerialNo: string
  /** Alipay's card number of the card to be opened. */
  alipayCardNo: string
  user: AlipayUser | undefined
  /** The submitted form, Alipay's JSON array. */
  userInfo?: string
}

/** What the SPI answers: the card to open, or why not. */
export type OpenCardSpiOutcome =
  | {
      ok: true
      card: {
        externalCardNo: string
        openDate: string
        validDate: string
        point: number
        level?: string
        balance?: string
      }
    }
  | { ok: false; code: string; message: string; retryable: boolean }

/** The member resolution, kept on the open request (no personal data) until the result comes. */
interface SpiAnswer {
  memberId: string
  templateId: string
  bizCardNo: string
  fromCrm: boolean
  point: number
  level?: string
  balance?: string
  openDate: string
  validDate: string
}

/** How long a repeated SPI call waits for the first one's answer. */
const DUPLICATE_WAIT_MS = 8_000
/** A request still resolving after this long was abandoned (a crash): a retry may take it over. */
const STALE_MS = 60_000

const requestIdOf = (outSerialNo: string) => `spi:${outSerialNo}`

function refused(code: string, message: string, retryable = false): OpenCardSpiOutcome {
  return { ok: false, code, message, retryable }
}

function toOutcome(answer: SpiAnswer): OpenCardSpiOutcome {
  return {
    ok: true,
    card: {
      externalCardNo: answer.bizCardNo,
      openDate: answer.openDate,
      validDate: answer.validDate,
      point: answer.point,
      ...(answer.level !== undefined ? { level: answer.level } : {}),
      ...(answer.balance !== undefined ? { balance: answer.balance } : {}),
    },
  }
}

/**
 * Answers `spi.alipay.user.opencard.get`. Idempotent by Alipay's out_serial_no: a repeated (or
 * concurrent) call answers what the first answered, and the CRM is asked once.
 */
export async function answerOpenCardSpi(
  deps: CardsDeps,
  input: OpenCardSpiInput,
): Promise<OpenCardSpiOutcome> {
  const { db, clock } = deps
  const { merchantId } = input
  const template = await templateByAlipayId(deps, input.templateId)
  if (!template || template.merchantId !== merchantId) {
    return refused(
      'CLAIM_UNKNOWN_TEMPLATE',
      `template_id ${input.templateId} is not a kaguan template of this app`,
    )
  }
  const user = input.user
  if (!user) {
    return refused('CLAIM_NO_USER', 'the SPI request names no user (user_id or open_id)')
  }
  const now = clock.nowIso()
  const requestId = requestIdOf(input.outSerialNo)
  const mine = await repo.insertClaimOnce(db, {
    id: deps.ids.next('clm'),
    merchant_id: merchantId,
    request_id: requestId,
    alipay_template_id: input.templateId,
    out_string: null,
    alipay_user_id: user.id,
    status: 'started',
    card_id: null,
    error_code: null,
    error_message: null,
    mode: '3.1',
    alipay_card_no: input.alipayCardNo,
    answer: null,
    alipay_open_id: user.openId ?? null,
    // Alipay calls the SPI itself: no user's browser, so only the user and day limits apply.
    client_ip_hash: null,
    device_hash: null,
    opened_card: null,
    created_at: now,
    updated_at: now,
  })
  if (!mine) {
    const settled = await awaitAnswer(deps, merchantId, requestId)
    if (settled !== 'takeover') {
      return settled
    }
  }
  const claim = (await repo.findClaim(db, merchantId, requestId))!
  try {
    const answer = await resolveAnswer(deps, input, user, claim)
    await repo.finishClaim(db, claim.id, {
      answer: JSON.stringify(answer),
      error_code: null,
      error_message: null,
      updated_at: clock.nowIso(),
    })
    return toOutcome(answer)
  } catch (error) {
    const { code, message, retryable } = userMessage(error)
    deps.log.warn(
      {
        err: error instanceof Error ? { message: error.message } : error,
        merchantId,
        templateId: template.id,
        outSerialNo: input.outSerialNo,
        errcode: code,
      },
      'open-card SPI refused',
    )
    await repo.finishClaim(db, claim.id, {
      status: 'failed',
      error_code: code,
      error_message: error instanceof Error ? error.message.slice(0, 500) : String(error),
      updated_at: clock.nowIso(),
    })
    return refused(code, message, retryable)
  }
}

/** The member for the open, checked the way the 3.0 claim checks it. */
async function resolveAnswer(
  deps: CardsDeps,
  input: OpenCardSpiInput,
  user: AlipayUser,
  claim: ClaimRow,
): Promise<SpiAnswer> {
  const template = (await templateByAlipayId(deps, input.templateId))!
  const held = await findHeldCard(deps, input.merchantId, input.templateId, user.id, user.openId)
  if (held) {
    throw CardErrors.alreadyHeld(held.bizCardNo)
  }
  await checkClaimAllowed(deps, { template, alipayUserId: user.id, claim })
  const resolved = await resolveMember(deps, {
    merchantId: input.merchantId,
    template,
    alipayUserId: user.id,
    ...(user.openId ? { alipayOpenId: user.openId } : {}),
    profile: formProfile(input.userInfo),
  })
  if (resolved.kind === 'held') {
    throw CardErrors.alreadyHeld(resolved.card.bizCardNo)
  }
  const { member } = resolved
  if (member.template.id !== template.id) {
    throw CardErrors.spiOtherTemplate(input.templateId, member.template.alipayTemplateId ?? '')
  }
  const now = deps.clock.now()
  return {
    memberId: member.memberId,
    templateId: template.id,
    bizCardNo: member.bizCardNo,
    fromCrm: member.fromCrm,
    point: member.point,
    ...(member.level !== undefined ? { level: member.level } : {}),
    ...(member.balance !== undefined ? { balance: member.balance } : {}),
    openDate: chinaTime(now),
    validDate: validDate(template.spec, now),
  }
}

/** A repeated SPI call: the first call's answer, or a takeover of a request that failed or stalled. */
async function awaitAnswer(
  deps: CardsDeps,
  merchantId: string,
  requestId: string,
): Promise<OpenCardSpiOutcome | 'takeover'> {
  const deadline = Date.now() + DUPLICATE_WAIT_MS
  for (;;) {
    const claim = (await repo.findClaim(deps.db, merchantId, requestId))!
    if (claim.answer && claim.status !== 'failed') {
      return toOutcome(JSON.parse(claim.answer) as SpiAnswer)
    }
    const nowIso = deps.clock.nowIso()
    // Refused before (a CRM outage, say): Alipay asks again, so try again.
    if (claim.status === 'failed' && !claim.answer) {
      if (await repo.settleFailedSpiClaim(deps.db, claim.id, nowIso)) {
        return 'takeover'
      }
    }
    if (claim.status === 'failed' && claim.answer) {
      return refused('CLAIM_FAILED', 'this open was reported failed; claim the card again', true)
    }
    const staleBefore = new Date(deps.clock.now().getTime() - STALE_MS).toISOString()
    if (await repo.takeOverStaleClaim(deps.db, claim.id, staleBefore, nowIso)) {
      return 'takeover'
    }
    if (Date.now() > deadline) {
      return refused('CLAIM_IN_PROGRESS', 'the same open is still being answered', true)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** `alipay.user.opencard.result.notify`, verified: the final result of a 3.1 open. */
export interface OpenCardResultInput {
  merchantId: string
  templateId: string
  /** Alipay's card number (the SPI's biz_card_no). */
  alipayCardNo: string
  externalCardNo: string
  success: boolean
  user?: AlipayUser
}

/**
 * Commits or releases the open the SPI answered. Success: the card stored and active, its opening
 * points in the ledger, in CRM mode cardChange ADD queued (storeCard, once however often Alipay
 * repeats the message). Failure: the open request is marked failed and nothing else is kept; the
 * member stays pending (no-CRM: its reserved number is reused by the user's next claim). Answers
 * false when the open is unknown (Alipay redelivers).
 */
export async function settleOpenCardResult(
  deps: CardsDeps,
  result: OpenCardResultInput,
): Promise<boolean> {
  const { db, clock, log } = deps
  const claim = await repo.findSpiClaimByCardNo(db, result.merchantId, result.alipayCardNo)
  if (!claim) {
    log.warn(
      { merchantId: result.merchantId, alipayCardNo: result.alipayCardNo },
      'open-card result for an open the SPI did not answer',
    )
    return false
  }
  if (claim.status === 'done') {
    return true
  }
  if (!claim.answer) {
    // The SPI refused this open: Alipay opened nothing of ours.
    return claim.status === 'failed'
  }
  const answer = JSON.parse(claim.answer) as SpiAnswer
  if (answer.bizCardNo !== result.externalCardNo) {
    log.warn(
      { merchantId: result.merchantId, alipayCardNo: result.alipayCardNo },
      'open-card result with another external_card_no than the SPI answered',
    )
  }
  if (!result.success) {
    if (
      await repo.settleSpiClaim(db, claim.id, {
        status: 'failed',
        error_code: 'OPEN_RESULT_FAILED',
        error_message: 'alipay.user.opencard.result.notify: success=false',
        updated_at: clock.nowIso(),
      })
    ) {
      await recordAudit(deps, {
        merchantId: result.merchantId,
        actor: 'alipay',
        action: 'claim.failed',
        target: { type: 'template', id: answer.templateId },
        after: { outSerialNo: claim.request_id.slice(4), errcode: 'OPEN_RESULT_FAILED' },
      })
    }
    return true
  }
  await commit(deps, claim, answer)
  return true
}

async function commit(deps: CardsDeps, claim: ClaimRow, answer: SpiAnswer): Promise<void> {
  const template = await getTemplate(deps, answer.templateId, claim.merchant_id)
  const member: ResolvedMember = {
    memberId: answer.memberId,
    bizCardNo: answer.bizCardNo,
    fromCrm: answer.fromCrm,
    template,
    point: answer.point,
    ...(answer.level !== undefined ? { level: answer.level } : {}),
    ...(answer.balance !== undefined ? { balance: answer.balance } : {}),
  }
  await storeCard(deps, {
    merchantId: claim.merchant_id,
    member,
    alipayUserId: claim.alipay_user_id!,
    ...(claim.alipay_open_id ? { alipayOpenId: claim.alipay_open_id } : {}),
    alipayCardNo: claim.alipay_card_no!,
    openDate: answer.openDate,
    validDate: answer.validDate,
    claimId: claim.id,
  })
}
