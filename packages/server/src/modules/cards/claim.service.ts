import type { AppDeps } from '../../deps.js'
import { AlipayError, parseActivateFormInfos } from '@kaguan/alipay'
import { alipayUserOf, type AlipayUser } from '../../shared/alipay-user.js'
import { AppError } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import type { MemberProfile } from '../members/index.js'
import { alipayContext, usesAlipayApp, type AlipayContext } from '../merchants/index.js'
import { templateByAlipayId, type CardTemplate } from '../templates/index.js'
import { toCardOpenRequest } from './card-open-request.js'
import { CardErrors, CLAIM_REFUSAL_TEXT, type ClaimRefusalCode } from './cards.errors.js'
import * as repo from './cards.repository.js'
import type { ClaimRow } from './cards.table.js'
import { checkClaimAllowed, originHashes, type ClaimOrigin } from './claim-limits.service.js'
import { findHeldCard, resolveMember, toHeldCard, type HeldCard } from './claim-member.service.js'
import { storeCard } from './claim-store.service.js'

export type CardsDeps = Pick<
  AppDeps,
  'db' | 'dialect' | 'config' | 'clock' | 'ids' | 'cipher' | 'log' | 'alipay' | 'crm'
>

/** The query Alipay sends to /aliCallback after the user agrees to the form. */
export interface ClaimCallback {
  appId: string
  authCode: string
  templateId: string
  requestId: string
  outString?: string
  /** The user's IP address and device cookie, for the template's claim limits. */
  origin?: ClaimOrigin
}

export type ClaimOutcome =
  | {
      status: 'done'
      cardId: string
      alipayCardNo: string
      bizCardNo: string
      cardUrl?: string
      alreadyHeld: boolean
    }
  | { status: 'failed'; code: string; message: string; retryable: boolean }
  | { status: 'pending' }

/** How long a claim may stay `started` before another callback may take it over (a crash). */
const STALE_CLAIM_MS = 60_000
/** How long a duplicate callback waits for the first one to finish before showing "in progress". */
const DUPLICATE_WAIT_MS = 8_000

const FORM_FIELDS: Record<string, keyof MemberProfile> = {
  OPEN_FORM_FIELD_NAME: 'name',
  OPEN_FORM_FIELD_MOBILE: 'mobile',
  OPEN_FORM_FIELD_CERT_NO: 'certNo',
  OPEN_FORM_FIELD_IDCARD: 'certNo',
  OPEN_FORM_FIELD_GENDER: 'gender',
  OPEN_FORM_FIELD_BIRTHDAY_WITH_YEAR: 'birthday',
  OPEN_FORM_FIELD_BIRTHDAY: 'birthday',
}

function failure(code: string, message: string, retryable: boolean): ClaimOutcome {
  return { status: 'failed', code, message, retryable }
}

/** What the user is told, by cause; the operator gets the precise reason in the log and audit. */
export function userMessage(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof AlipayError) {
    return {
      code: `ALIPAY_${error.code}`,
      message: error.retryable
        ? '支付宝暂时繁忙，会员卡没有办理成功，请稍后重新领取。'
        : `支付宝未能办理会员卡（${error.subMsg ?? error.msg ?? error.code}），请联系商家。`,
      retryable: error.retryable,
    }
  }
  if (error instanceof AppError && error.code.startsWith('CRM_')) {
    const { retryable } = error
    return {
      code: error.code,
      message: retryable
        ? '商家会员系统暂时无法办理，请稍后重新领取。'
        : '商家会员系统返回了无法识别的结果，会员卡没有办理成功。商家已收到提醒，请稍后重试。',
      retryable,
    }
  }
  if (error instanceof AppError && error.code in CLAIM_REFUSAL_TEXT) {
    const code = error.code as ClaimRefusalCode
    return { code, message: CLAIM_REFUSAL_TEXT[code], retryable: false }
  }
  if (error instanceof AppError) {
    return { code: error.code, message: `会员卡没有办理成功：${error.message}`, retryable: false }
  }
  return {
    code: 'INTERNAL',
    message: '系统异常，会员卡没有办理成功，请稍后重试。',
    retryable: true,
  }
}

function toDone(card: HeldCard, alreadyHeld: boolean, cardUrl?: string): ClaimOutcome {
  return {
    status: 'done',
    cardId: card.id,
    alipayCardNo: card.alipayCardNo,
    bizCardNo: card.bizCardNo,
    alreadyHeld,
    ...(cardUrl ? { cardUrl } : {}),
  }
}

async function cardUrlOf(ctx: AlipayContext, alipayCardNo: string): Promise<string | undefined> {
  try {
    const q = await ctx.client.queryCard(
      { target_card_no: alipayCardNo, target_card_no_type: 'BIZ_CARD' },
      { appAuthToken: ctx.appAuthToken },
    )
    return (q as { schema_url?: string }).schema_url || undefined
  } catch {
    return undefined
  }
}

/**
 * The claim (领卡) behind `GET /aliCallback` (DESIGN.md flow 2): oauth token → the submitted form →
 * the member (the CRM's openCardInfo, or kaguan's own store) → card.open → the card stored and, in
 * CRM mode, cardChange ADD queued in the same transaction.
 *
 * Safe under retries and races: one claim per Alipay request id (a repeated or concurrent callback
 * waits for and shows the first one's result); a user who already holds the template's card gets it
 * back without a second open; card.open carries an out_serial_no derived from user, template and
 * how many cards the user had, so Alipay answers a repeated open with the same card; the card row
 * is unique by Alipay's card number, and ADD is queued only by the insert that created it.
 */
export async function claimCard(deps: CardsDeps, cb: ClaimCallback): Promise<ClaimOutcome> {
  const { db, clock, log } = deps
  // The template names the merchant (Alipay template ids are unique); the app id alone would not
  // when one ISV app serves several merchants.
  const template = await templateByAlipayId(deps, cb.templateId)
  if (!template) {
    return failure('CLAIM_UNKNOWN_TEMPLATE', '领卡链接无效：会员卡不存在。请联系商家。', false)
  }
  const merchantId = template.merchantId
  if (!(await usesAlipayApp(deps, merchantId, cb.appId))) {
    return failure('CLAIM_UNKNOWN_APP', '领卡链接无效：商家应用未配置。请联系商家。', false)
  }

  const now = clock.nowIso()
  const claimId = deps.ids.next('clm')
  const mine = await repo.insertClaimOnce(db, {
    id: claimId,
    merchant_id: merchantId,
    request_id: cb.requestId,
    alipay_template_id: cb.templateId,
    out_string: cb.outString ?? null,
    alipay_user_id: null,
    status: 'started',
    card_id: null,
    error_code: null,
    error_message: null,
    ...originHashes(deps, cb.origin),
    opened_card: null,
    mode: '3.0',
    alipay_card_no: null,
    answer: null,
    alipay_open_id: null,
    created_at: now,
    updated_at: now,
  })
  if (!mine) {
    const settled = await awaitClaim(deps, merchantId, cb.requestId)
    if (settled.status !== 'takeover') {
      return settled
    }
  }
  const claim = (await repo.findClaim(db, merchantId, cb.requestId))!
  try {
    return await runClaim(deps, merchantId, template, cb, claim)
  } catch (error) {
    const { code, message, retryable } = userMessage(error)
    log.warn(
      {
        err:
          error instanceof Error
            ? { message: error.message, code: (error as { code?: unknown }).code }
            : error,
        merchantId,
        templateId: template.id,
        requestId: cb.requestId,
        errcode: code,
      },
      'claim failed',
    )
    await repo.finishClaim(db, claim.id, {
      status: 'failed',
      error_code: code,
      error_message: error instanceof Error ? error.message.slice(0, 500) : String(error),
      updated_at: clock.nowIso(),
    })
    await recordAudit(deps, {
      merchantId,
      actor: 'alipay',
      action: 'claim.failed',
      target: { type: 'template', id: template.id },
      after: {
        requestId: cb.requestId,
        errcode: code,
        reason: error instanceof Error ? error.message.slice(0, 300) : String(error),
        retryable,
      },
    })
    return failure(code, message, retryable)
  }
}

/** A duplicate callback: wait for the first to settle, or take it over when it went silent. */
async function awaitClaim(
  deps: CardsDeps,
  merchantId: string,
  requestId: string,
): Promise<ClaimOutcome | { status: 'takeover' }> {
  const deadline = Date.now() + DUPLICATE_WAIT_MS
  for (;;) {
    const claim = (await repo.findClaim(deps.db, merchantId, requestId))!
    if (claim.status === 'done' && claim.card_id) {
      const card = (await repo.findCard(deps.db, claim.card_id))!
      return toDone(toHeldCard(card), true)
    }
    if (claim.status === 'failed') {
      return failure(claim.error_code ?? 'CLAIM_FAILED', '这次领卡没有成功，请重新领取。', true)
    }
    const staleBefore = new Date(deps.clock.now().getTime() - STALE_CLAIM_MS).toISOString()
    if (await repo.takeOverStaleClaim(deps.db, claim.id, staleBefore, deps.clock.nowIso())) {
      return { status: 'takeover' }
    }
    if (Date.now() > deadline) {
      return { status: 'pending' }
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The Alipay user behind the callback's auth code, and their token for the user-scoped calls. */
async function claimingUser(
  ctx: AlipayContext,
  authCode: string,
): Promise<{ user: AlipayUser; accessToken: string }> {
  const token = await ctx.client.exchangeAuthCode(authCode, { appAuthToken: ctx.appAuthToken })
  // user_id, open_id or both, as the app is set up (OpenID).
  const user = alipayUserOf(token)
  const accessToken = (token as { access_token?: string }).access_token
  if (!user || !accessToken) {
    throw CardErrors.claimNoUser()
  }
  return { user, accessToken }
}

/** What the user filled in on Alipay's form (`activateform.query`), as a member profile. */
async function submittedProfile(
  ctx: AlipayContext,
  cb: ClaimCallback,
  accessToken: string,
): Promise<MemberProfile> {
  const form = await ctx.client.queryActivateForm(
    { biz_type: 'MEMBER_CARD', template_id: cb.templateId, request_id: cb.requestId },
    { appAuthToken: ctx.appAuthToken, authToken: accessToken },
  )
  return formProfile((form as { infos?: string }).infos)
}

/** The submitted form (Alipay's JSON array of `{ OPEN_FORM_FIELD_…: value }`) as a member profile. */
export function formProfile(infos: string | undefined): MemberProfile {
  const profile: MemberProfile = {}
  for (const [field, value] of Object.entries(parseActivateFormInfos(infos))) {
    const key = FORM_FIELDS[field]
    if (key && value) {
      profile[key] = value
    }
  }
  return profile
}

/** The user already holds the card: the claim is done with it, nothing is opened. */
async function settleHeld(
  deps: CardsDeps,
  ctx: AlipayContext,
  claimId: string,
  held: HeldCard,
): Promise<ClaimOutcome> {
  await repo.finishClaim(deps.db, claimId, {
    status: 'done',
    card_id: held.id,
    opened_card: 0,
    updated_at: deps.clock.nowIso(),
  })
  return toDone(held, true, await cardUrlOf(ctx, held.alipayCardNo))
}

/** The claimed user → the member → card.open → the card stored (its steps are reused by flow 7). */
async function runClaim(
  deps: CardsDeps,
  merchantId: string,
  template: CardTemplate,
  cb: ClaimCallback,
  claim: ClaimRow,
): Promise<ClaimOutcome> {
  const { db, clock } = deps
  const claimId = claim.id
  const ctx = await alipayContext(deps, merchantId)
  const { user, accessToken } = await claimingUser(ctx, cb.authCode)
  const userId = user.id
  await repo.finishClaim(db, claimId, {
    alipay_user_id: userId,
    alipay_open_id: user.openId ?? null,
    updated_at: clock.nowIso(),
  })

  // Checked before the form query: a user who holds the card needs no second open.
  const held = await findHeldCard(deps, merchantId, cb.templateId, userId, user.openId)
  if (held) {
    return settleHeld(deps, ctx, claimId, held)
  }
  await checkClaimAllowed(deps, { template, alipayUserId: userId, claim })
  const profile = await submittedProfile(ctx, cb, accessToken)
  const resolved = await resolveMember(deps, {
    merchantId,
    template,
    alipayUserId: userId,
    ...(user.openId ? { alipayOpenId: user.openId } : {}),
    profile,
    outString: cb.outString,
  })
  if (resolved.kind === 'held') {
    return settleHeld(deps, ctx, claimId, resolved.card)
  }
  const { member } = resolved

  // Counted over every template: a card that changeTemplate moved keeps the serial it opened with.
  const generation = await repo.countForUser(db, merchantId, userId, user.openId)
  const request = toCardOpenRequest({
    spec: member.template.spec,
    alipayTemplateId: member.template.alipayTemplateId!,
    member,
    alipayUserId: userId,
    ...(user.openId ? { alipayOpenId: user.openId } : {}),
    profile,
    generation,
    now: clock.now(),
    outString: cb.outString,
  })
  const opened = await ctx.client.openCard(request, {
    appAuthToken: ctx.appAuthToken,
    authToken: accessToken,
  })
  const alipayCardNo = opened.card_info?.biz_card_no
  if (!alipayCardNo) {
    throw CardErrors.badOpen()
  }

  // The card's wallet link (card.query) is fetched while the card is stored: the user waits for
  // one of the two, not both.
  const [{ card, created }, cardUrl] = await Promise.all([
    storeCard(deps, {
      merchantId,
      member,
      alipayUserId: userId,
      ...(user.openId ? { alipayOpenId: user.openId } : {}),
      ...(user.unionId ? { alipayUnionId: user.unionId } : {}),
      alipayCardNo,
      openDate: request.card_ext_info.open_date,
      validDate: request.card_ext_info.valid_date,
      outString: cb.outString,
      claimId,
    }),
    cardUrlOf(ctx, alipayCardNo),
  ])
  return toDone(card, !created, cardUrl)
}
