import { CardErrors } from './cards.errors.js'
import type { AppDeps } from '../../deps.js'
import { AlipayError, parseActivateFormInfos } from '@kaguan/alipay'
import type { TemplateSpec } from '@kaguan/contracts'
import { chinaTime } from '../../shared/china-time.js'
import { AppError } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import {
  activateMember,
  recordCrmMember,
  reserveMember,
  type MemberProfile,
} from '../members/index.js'
import {
  alipayContext,
  crmConnection,
  memberSystem,
  usesAlipayApp,
  type AlipayContext,
} from '../merchants/index.js'
import { enqueue } from '../outbox/index.js'
import { templateByAlipayId, type CardTemplate } from '../templates/index.js'
import * as repo from './cards.repository.js'
import type { CardRow } from './cards.table.js'
import { CARD_CHANGE_TOPIC, type CardChangePayload } from './topics.js'

export type CardsDeps = Pick<AppDeps, 'db' | 'clock' | 'ids' | 'cipher' | 'log' | 'alipay' | 'crm'>

/** The query Alipay sends to /aliCallback after the user agrees to the form. */
export interface ClaimCallback {
  appId: string
  authCode: string
  templateId: string
  requestId: string
  outString?: string
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
function userMessage(error: unknown): { code: string; message: string; retryable: boolean } {
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
  if (error instanceof AppError) {
    return { code: error.code, message: `会员卡没有办理成功：${error.message}`, retryable: false }
  }
  return {
    code: 'INTERNAL',
    message: '系统异常，会员卡没有办理成功，请稍后重试。',
    retryable: true,
  }
}

function toDone(card: CardRow, alreadyHeld: boolean, cardUrl?: string): ClaimOutcome {
  return {
    status: 'done',
    cardId: card.id,
    alipayCardNo: card.alipay_card_no,
    bizCardNo: card.biz_card_no,
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

function validDate(spec: TemplateSpec, now: Date): string {
  const v = spec.basic.validity
  if (v.type === 'permanent') {
    return '2099-12-31 23:59:59'
  }
  if (v.type === 'fixedEnd') {
    return `${v.endDate} 23:59:59`
  }
  return chinaTime(new Date(now.getTime() + v.days * 86_400_000))
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
    const outcome = await runClaim(deps, merchantId, template, cb, claim.id)
    return outcome
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
      return toDone(card, true)
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

async function runClaim(
  deps: CardsDeps,
  merchantId: string,
  template: CardTemplate,
  cb: ClaimCallback,
  claimId: string,
): Promise<ClaimOutcome> {
  const { db, clock } = deps
  const ctx = await alipayContext(deps, merchantId)
  const opts = { appAuthToken: ctx.appAuthToken }
  const token = await ctx.client.exchangeAuthCode(cb.authCode, opts)
  const userId = token.user_id
  const accessToken = (token as { access_token?: string }).access_token
  if (!userId || !accessToken) {
    throw CardErrors.claimNoUser()
  }
  await repo.finishClaim(db, claimId, { alipay_user_id: userId, updated_at: clock.nowIso() })

  const held = await repo.findActiveForUser(db, merchantId, cb.templateId, userId)
  if (held) {
    await repo.finishClaim(db, claimId, {
      status: 'done',
      card_id: held.id,
      updated_at: clock.nowIso(),
    })
    return toDone(held, true, await cardUrlOf(ctx, held.alipay_card_no))
  }

  const form = await ctx.client.queryActivateForm(
    { biz_type: 'MEMBER_CARD', template_id: cb.templateId, request_id: cb.requestId },
    { ...opts, authToken: accessToken },
  )
  const profile: MemberProfile = {}
  for (const [field, value] of Object.entries(
    parseActivateFormInfos((form as { infos?: string }).infos),
  )) {
    const key = FORM_FIELDS[field]
    if (key && value) {
      profile[key] = value
    }
  }

  const system = await memberSystem(deps, merchantId)
  let target = template
  let member: { id: string; bizCardNo: string }
  let point: number
  let level: string | undefined
  let balance: string | undefined
  if (system.mode === 'crm') {
    const conn = await crmConnection(deps, merchantId)
    if (!conn) {
      throw CardErrors.crmNotConfigured()
    }
    const answer = await deps.crm.openCardInfo(
      { baseUrl: conn.baseUrl, token: conn.token },
      {
        alipayUserId: userId,
        templateId: cb.templateId,
        ...(cb.outString ? { outString: cb.outString } : {}),
        ...profile,
      },
    )
    if (answer.templateId && answer.templateId !== cb.templateId) {
      const other = await templateByAlipayId(deps, answer.templateId)
      if (!other || other.merchantId !== merchantId) {
        throw CardErrors.crmUnknownTemplate(answer.templateId)
      }
      target = other
      const heldOther = await repo.findActiveForUser(db, merchantId, answer.templateId, userId)
      if (heldOther) {
        await repo.finishClaim(db, claimId, {
          status: 'done',
          card_id: heldOther.id,
          updated_at: clock.nowIso(),
        })
        return toDone(heldOther, true, await cardUrlOf(ctx, heldOther.alipay_card_no))
      }
    }
    const snapshot = await recordCrmMember(deps, merchantId, userId, answer.bizCardNo, profile)
    member = { id: snapshot.id, bizCardNo: answer.bizCardNo }
    point = answer.point
    level = answer.level
    balance = answer.balance
  } else {
    const spec = template.spec
    const own = await reserveMember(deps, merchantId, userId, profile, system.numbering)
    member = { id: own.id, bizCardNo: own.bizCardNo }
    point = spec.defaults.point
    level = spec.defaults.level
    balance = spec.defaults.balance
  }
  const targetSpec = target.spec
  if (level !== undefined && !targetSpec.levels.some((l) => l.code === level)) {
    throw CardErrors.levelUnknown(
      system.mode === 'crm',
      level,
      target.id,
      targetSpec.levels.map((l) => l.code),
    )
  }
  const alipayTemplateId = target.alipayTemplateId!
  // Counted over every template: a card that changeTemplate moved keeps the serial it opened with.
  const generation = await repo.countForUser(db, merchantId, userId)
  const now = clock.now()
  const openDate = chinaTime(now)
  const valid = validDate(targetSpec, now)
  const opened = await ctx.client.openCard(
    {
      out_serial_no: `${alipayTemplateId}_${userId}_${generation}`,
      card_template_id: alipayTemplateId,
      card_user_info: { user_uni_id: userId, user_uni_id_type: 'UID' },
      card_ext_info: {
        external_card_no: member.bizCardNo,
        open_date: openDate,
        valid_date: valid,
        point: String(point),
        ...(level !== undefined ? { level } : {}),
        ...(balance !== undefined ? { balance } : {}),
      },
      member_ext_info: {
        ...(profile.name ? { name: profile.name } : {}),
        ...(profile.mobile ? { cell: profile.mobile } : {}),
        ...(profile.gender ? { gende: profile.gender } : {}),
        ...(profile.birthday ? { birth: profile.birthday } : {}),
      },
      ...(cb.outString && /^\w{1,64}$/.test(cb.outString)
        ? { open_card_channel: cb.outString }
        : {}),
    },
    { ...opts, authToken: accessToken },
  )
  const alipayCardNo = opened.card_info?.biz_card_no
  if (!alipayCardNo) {
    throw CardErrors.badOpen()
  }

  const card = await db.transaction().execute(async (trx) => {
    const nowIso = clock.nowIso()
    const row: CardRow = {
      id: deps.ids.next('card'),
      merchant_id: merchantId,
      member_id: member.id,
      template_id: target.id,
      alipay_template_id: alipayTemplateId,
      alipay_user_id: userId,
      biz_card_no: member.bizCardNo,
      alipay_card_no: alipayCardNo,
      status: 'active',
      out_string: cb.outString ?? null,
      point,
      level: level ?? null,
      balance: balance ?? null,
      state_version: 1,
      pushed_version: 1,
      open_date: openDate,
      valid_date: valid,
      deleted_at: null,
      delete_reason: null,
      created_at: nowIso,
      updated_at: nowIso,
    }
    const created = await repo.insertCardOnce(trx, row)
    const stored = created ? row : (await repo.findByAlipayCardNo(trx, merchantId, alipayCardNo))!
    if (created) {
      await activateMember({ ...deps, db: trx }, member.id)
      await repo.insertEntryOnce(trx, {
        id: deps.ids.next('pe'),
        merchant_id: merchantId,
        card_id: row.id,
        delta: point,
        point_after: point,
        reason: 'open',
        source: 'claim',
        idempotency_key: row.id,
        created_at: nowIso,
      })
      if (system.mode === 'crm') {
        const payload: CardChangePayload = {
          type: 'ADD',
          templateId: alipayTemplateId,
          alipayUserId: userId,
          bizCardNo: member.bizCardNo,
          alipayCardNo,
        }
        // One order key per card: its DEL is delivered only after this ADD.
        await enqueue(
          { ...deps, db: trx },
          {
            merchantId,
            topic: CARD_CHANGE_TOPIC,
            orderKey: row.id,
            payload,
          },
        )
      }
      await recordAudit(
        { ...deps, db: trx },
        {
          merchantId,
          actor: `alipay:${userId}`,
          action: 'card.open',
          target: { type: 'card', id: row.id },
          after: {
            templateId: target.id,
            bizCardNo: member.bizCardNo,
            alipayCardNo,
            point,
            level,
            balance,
            outString: cb.outString ?? null,
          },
        },
      )
    }
    await repo.finishClaim(trx, claimId, { status: 'done', card_id: stored.id, updated_at: nowIso })
    return { stored, created }
  })
  return toDone(card.stored, !card.created, await cardUrlOf(ctx, alipayCardNo))
}
