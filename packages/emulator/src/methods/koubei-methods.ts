import { createHash } from 'node:crypto'
import { findUser } from '../cards.js'
import { optArray, optObject, optString, reqString } from '../gateway/context.js'
import type { CallContext, MethodDef } from '../gateway/context.js'
import { businessError, invalidParameter } from '../gateway/errors.js'
import { digits, hexToken, longId, parseAlipayTime } from '../ids.js'
import type { Runtime } from '../runtime.js'
import { json } from '../store.js'

/** A stored Koubei activity. */
export interface ActivityRecord {
  campId: string
  appId: string
  itemId: string | null
  notifyUrl: string | null
  data: Record<string, unknown>
}

const activityTypes = new Set([
  'CONSUME_SEND',
  'DIRECT_SEND',
  'REAL_TIME_SEND',
  'GUESS_SEND',
  'RECHARGE_SEND',
  'POINT_SEND',
])
const transTypes = new Set(['DEPOSIT', 'FREEZE', 'COMMIT', 'CANCEL', 'CONSUME'])

/**
 * Sub codes the reference could not find (koubei-points-api.md §10.3) are emulator-defined and say so
 * by their prefix, so nobody mistakes them for Alipay's.
 */
export const KoubeiSubCode = {
  ActivityNotFound: 'KOUBEI_EMU.ACTIVITY_NOT_FOUND',
  AccountNotFound: 'KOUBEI_EMU.ACCOUNT_NOT_FOUND',
  PointsNotEnough: 'KOUBEI_EMU.POINTS_NOT_ENOUGH',
  FreezeNotFound: 'KOUBEI_EMU.FREEZE_NOT_FOUND',
  FreezeResolved: 'KOUBEI_EMU.FREEZE_ALREADY_RESOLVED',
  ReqIdConflict: 'KOUBEI_EMU.REQ_ID_CONFLICT',
  PrizeNotFound: 'KOUBEI_EMU.PRIZE_NOT_FOUND',
  UserNotFound: 'KOUBEI_EMU.USER_NOT_FOUND',
} as const

/** An activity by camp id. */
export function findActivity(rt: Runtime, campId: string): ActivityRecord | undefined {
  const row = rt.db.prepare('select * from activities where camp_id = ?').get(campId) as
    | {
        camp_id: string
        app_id: string
        item_id: string | null
        notify_url: string | null
        data: string
      }
    | undefined
  return row === undefined
    ? undefined
    : {
        campId: row.camp_id,
        appId: row.app_id,
        itemId: row.item_id,
        notifyUrl: row.notify_url,
        data: json(row.data),
      }
}

/** The DIRECT_SEND activity whose prize (`itemId`) this is. */
export function findActivityByItem(rt: Runtime, itemId: string): ActivityRecord | undefined {
  const row = rt.db.prepare('select camp_id from activities where item_id = ?').get(itemId) as
    { camp_id: string } | undefined
  return row === undefined ? undefined : findActivity(rt, row.camp_id)
}

/** The claim page URL Koubei puts in `publish_channels[].ext_info.URL_WITH_TOKEN` (§5.2). */
export function couponPageUrl(rt: Runtime, itemId: string): string {
  return `${rt.publicUrl}/p/z/pointset/index.html?itemId=${itemId}`
}

function ownActivity(ctx: CallContext, campId: string): ActivityRecord {
  const activity = findActivity(ctx.rt, campId)
  if (activity === undefined || activity.appId !== ctx.app.appId) {
    throw businessError(KoubeiSubCode.ActivityNotFound, `活动不存在:${campId}`)
  }
  return activity
}

/** The stamp balance of one account and user, folded from the ledger (koubei §9). */
export function pointBalance(
  rt: Runtime,
  account: string,
  userId: string,
): { total: number; available: number; frozen: number } {
  const rows = rt.db
    .prepare(
      'select trans_type, amount, point_log_no, resolved_by from point_entries where activity_account = ? and user_id = ?',
    )
    .all(account, userId) as { trans_type: string; amount: number }[]
  let total = 0
  let available = 0
  let frozen = 0
  for (const row of rows) {
    switch (row.trans_type) {
      case 'DEPOSIT':
        total += row.amount
        available += row.amount
        break
      case 'FREEZE':
        available -= row.amount
        frozen += row.amount
        break
      case 'COMMIT':
        frozen -= row.amount
        break
      case 'CANCEL':
        frozen -= row.amount
        available += row.amount
        break
      case 'CONSUME':
        available -= row.amount
        break
    }
  }
  return { total, available, frozen }
}

const activityCreate: MethodDef = {
  product: 'koubei',
  run(ctx) {
    const outBizNo = reqString(ctx.biz, 'out_biz_no')
    const previous = ctx.rt.db
      .prepare('select camp_id from activities where app_id = ? and out_biz_no = ?')
      .get(ctx.app.appId, outBizNo) as { camp_id: string } | undefined
    // out_biz_no is the idempotency key per owner (koubei §2.1).
    if (previous !== undefined) {
      return { camp_id: previous.camp_id, camp_status: 'STARTED' }
    }
    reqString(ctx.biz, 'name')
    const type = reqString(ctx.biz, 'type')
    if (!activityTypes.has(type)) {
      throw invalidParameter(`type 取值不合法:${type}`)
    }
    const start = parseAlipayTime(reqString(ctx.biz, 'start_time'))
    const end = parseAlipayTime(reqString(ctx.biz, 'end_time'))
    if (start === undefined || end === undefined || end <= start) {
      throw invalidParameter('start_time/end_time 格式错误或结束时间不晚于开始时间')
    }
    const tools = optArray(ctx.biz, 'promo_tools')
    if (tools.length === 0) {
      throw invalidParameter('promo_tools 不能为空')
    }
    for (const tool of tools) {
      const t = (tool ?? {}) as Record<string, unknown>
      const pointCard = optObject(t, 'point_card')
      const voucher = optObject(t, 'voucher')
      if (type === 'POINT_SEND') {
        if (pointCard === undefined) {
          throw invalidParameter('POINT_SEND 活动 promo_tools.point_card 必填')
        }
        if (voucher !== undefined) {
          throw invalidParameter('POINT_SEND 活动 promo_tools.voucher 必须为空')
        }
        reqString(pointCard, 'name', 'promo_tools.point_card.')
      } else {
        if (voucher === undefined) {
          throw invalidParameter('promo_tools.voucher 必填')
        }
        if (pointCard !== undefined) {
          throw invalidParameter('promo_tools.point_card 仅在 POINT_SEND 活动有效')
        }
        reqString(voucher, 'type', 'promo_tools.voucher.')
        reqString(voucher, 'name', 'promo_tools.voucher.')
      }
    }
    const channels = optArray(ctx.biz, 'publish_channels')
    if ((type === 'DIRECT_SEND' || type === 'REAL_TIME_SEND') && channels.length === 0) {
      throw invalidParameter('publish_channels 不能为空')
    }
    if (type === 'CONSUME_SEND' && channels.length > 0) {
      throw invalidParameter('CONSUME_SEND 活动 publish_channels 必须为空')
    }
    for (const channel of channels) {
      const c = (channel ?? {}) as Record<string, unknown>
      if (optString(c, 'type') === 'URL_WITH_TOKEN' && type !== 'DIRECT_SEND') {
        throw invalidParameter('URL_WITH_TOKEN 只支持 DIRECT_SEND 活动')
      }
    }
    const campId = longId()
    const itemId = type === 'DIRECT_SEND' ? `${campId.slice(0, 8)}${digits(20)}` : null
    ctx.rt.db
      .prepare(
        'insert into activities (camp_id, app_id, out_biz_no, item_id, notify_url, data, created_at) values (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        campId,
        ctx.app.appId,
        outBizNo,
        itemId,
        ctx.params.notify_url ?? null,
        JSON.stringify(ctx.biz),
        new Date().toISOString(),
      )
    return { camp_id: campId, camp_status: 'STARTED' }
  },
}

const activityQuery: MethodDef = {
  product: 'koubei',
  run(ctx) {
    const activity = ownActivity(ctx, reqString(ctx.biz, 'camp_id'))
    const d = activity.data
    const tools = optArray(d, 'promo_tools').map((tool, i) => ({
      ...((tool ?? {}) as Record<string, unknown>),
      voucher_no: `${activity.campId.slice(-12)}${String(i + 1).padStart(4, '0')}`,
    }))
    const channels = optArray(d, 'publish_channels').map((channel) => {
      const c = (channel ?? {}) as Record<string, unknown>
      return optString(c, 'type') === 'URL_WITH_TOKEN' && activity.itemId !== null
        ? {
            ...c,
            ext_info: JSON.stringify({ URL_WITH_TOKEN: couponPageUrl(ctx.rt, activity.itemId) }),
          }
        : c
    })
    const { out_biz_no: _o, ...rest } = d
    return {
      camp_detail: {
        ...rest,
        id: activity.campId,
        status: 'STARTED',
        promo_tools: tools,
        publish_channels: channels,
        // Where activity_account lives is unconfirmed (koubei §10.1): the emulator uses the camp id.
        ext_info: JSON.stringify({ activity_account: activity.campId }),
      },
    }
  },
}

function fingerprint(biz: Record<string, unknown>): string {
  const keys = ['user_id', 'activity_account', 'trans_type', 'trans_amount', 'shop_id', 'biz_no']
  return createHash('sha256')
    .update(keys.map((k) => `${k}=${optString(biz, k) ?? ''}`).join('&'))
    .digest('hex')
}

const pointsUpdate: MethodDef = {
  product: 'koubei',
  run(ctx) {
    const rt = ctx.rt
    const reqId = reqString(ctx.biz, 'req_id')
    const print = fingerprint(ctx.biz)
    const replay = rt.db
      .prepare(
        'select point_log_no, fingerprint from point_entries where app_id = ? and req_id = ?',
      )
      .get(ctx.app.appId, reqId) as { point_log_no: string; fingerprint: string } | undefined
    if (replay !== undefined) {
      // Same req_id + same params → the same answer; different params → an error (koubei §3).
      if (replay.fingerprint !== print) {
        throw businessError(KoubeiSubCode.ReqIdConflict, 'req_id 已使用且参数不一致')
      }
      return { point_log_no: replay.point_log_no }
    }
    const userId = reqString(ctx.biz, 'user_id')
    const account = reqString(ctx.biz, 'activity_account')
    const transType = reqString(ctx.biz, 'trans_type')
    if (!transTypes.has(transType)) {
      throw invalidParameter(`trans_type 取值不合法:${transType}`)
    }
    const amountText = reqString(ctx.biz, 'trans_amount')
    if (!/^[1-9][0-9]*$/.test(amountText)) {
      throw invalidParameter('trans_amount 必须为正整数')
    }
    const amount = Number(amountText)
    const activity = findActivity(rt, account)
    if (
      activity === undefined ||
      activity.appId !== ctx.app.appId ||
      activity.data.type !== 'POINT_SEND'
    ) {
      throw businessError(KoubeiSubCode.AccountNotFound, `集点账户不存在:${account}`)
    }
    if (findUser(rt, userId) === undefined) {
      throw businessError(KoubeiSubCode.UserNotFound, `用户不存在:${userId}`)
    }
    const bizNo = optString(ctx.biz, 'biz_no')
    if ((transType === 'FREEZE' || transType === 'CONSUME') && bizNo !== undefined) {
      throw invalidParameter(`${transType} 不能传 biz_no`)
    }
    if (transType === 'DEPOSIT') {
      if (bizNo === undefined) {
        throw invalidParameter('DEPOSIT 须传 biz_no(交易号)')
      }
      reqString(ctx.biz, 'shop_id')
    }
    const balance = pointBalance(rt, account, userId)
    if ((transType === 'FREEZE' || transType === 'CONSUME') && balance.available < amount) {
      throw businessError(KoubeiSubCode.PointsNotEnough, `可用集点不足:${balance.available}`)
    }
    const logNo = `${Date.now()}${digits(12)}`
    if (transType === 'COMMIT' || transType === 'CANCEL') {
      if (bizNo === undefined) {
        throw invalidParameter(`${transType} 须传 biz_no(冻结流水号)`)
      }
      const freeze = rt.db
        .prepare(
          "select amount, resolved_by, user_id, activity_account from point_entries where point_log_no = ? and trans_type = 'FREEZE' and app_id = ?",
        )
        .get(bizNo, ctx.app.appId) as
        | { amount: number; resolved_by: string | null; user_id: string; activity_account: string }
        | undefined
      if (
        freeze === undefined ||
        freeze.user_id !== userId ||
        freeze.activity_account !== account
      ) {
        throw businessError(KoubeiSubCode.FreezeNotFound, `冻结流水不存在:${bizNo}`)
      }
      if (freeze.resolved_by !== null) {
        throw businessError(KoubeiSubCode.FreezeResolved, '冻结流水已提交或取消')
      }
      if (amount !== freeze.amount) {
        throw invalidParameter(`trans_amount 须等于冻结数量:${freeze.amount}`)
      }
      // A freeze resolves at most once (koubei §9).
      rt.db
        .prepare('update point_entries set resolved_by = ? where point_log_no = ?')
        .run(logNo, bizNo)
    }
    rt.db
      .prepare(
        `insert into point_entries (point_log_no, app_id, req_id, activity_account, user_id, trans_type, amount, biz_no, fingerprint, created_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        logNo,
        ctx.app.appId,
        reqId,
        account,
        userId,
        transType,
        amount,
        bizNo ?? null,
        print,
        new Date().toISOString(),
      )
    return { point_log_no: logNo }
  },
}

const pointsQuery: MethodDef = {
  product: 'koubei',
  run(ctx) {
    const account = reqString(ctx.biz, 'activity_account')
    const userId = reqString(ctx.biz, 'user_id')
    const activity = findActivity(ctx.rt, account)
    if (activity === undefined || activity.appId !== ctx.app.appId) {
      throw businessError(KoubeiSubCode.AccountNotFound, `集点账户不存在:${account}`)
    }
    const b = pointBalance(ctx.rt, account, userId)
    return {
      total_points: String(b.total),
      available_points: String(b.available),
      freezed_points: String(b.frozen),
    }
  },
}

const prizeSendAuth: MethodDef = {
  product: 'koubei',
  run(ctx) {
    const rt = ctx.rt
    const reqId = reqString(ctx.biz, 'req_id')
    const prizeId = reqString(ctx.biz, 'prize_id')
    const userId = reqString(ctx.biz, 'user_id')
    const previous = rt.db
      .prepare('select token, prize_id, user_id from prize_tokens where app_id = ? and req_id = ?')
      .get(ctx.app.appId, reqId) as { token: string; prize_id: string; user_id: string } | undefined
    if (previous !== undefined) {
      if (previous.prize_id !== prizeId || previous.user_id !== userId) {
        throw businessError(KoubeiSubCode.ReqIdConflict, 'req_id 已使用且参数不一致')
      }
      return { token: previous.token }
    }
    const activity = findActivityByItem(rt, prizeId)
    if (activity === undefined || activity.appId !== ctx.app.appId) {
      throw businessError(KoubeiSubCode.PrizeNotFound, `奖品不存在:${prizeId}`)
    }
    if (findUser(rt, userId) === undefined) {
      throw businessError(KoubeiSubCode.UserNotFound, `用户不存在:${userId}`)
    }
    const token = hexToken(16)
    rt.db
      .prepare(
        'insert into prize_tokens (token, app_id, req_id, prize_id, user_id, expires_at) values (?, ?, ?, ?, ?, ?)',
      )
      .run(
        token,
        ctx.app.appId,
        reqId,
        prizeId,
        userId,
        Date.now() + rt.behaviour.prizeTokenTtlSeconds * 1000,
      )
    return { token }
  },
}

/** Koubei marketing methods by name (gone from real Alipay since 2022, kept here; koubei §0). */
export const koubeiMethods: Record<string, MethodDef> = {
  'koubei.marketing.campaign.activity.create': activityCreate,
  'koubei.marketing.campaign.activity.query': activityQuery,
  'koubei.marketing.tool.points.update': pointsUpdate,
  'koubei.marketing.tool.points.query': pointsQuery,
  'koubei.marketing.tool.prizesend.auth': prizeSendAuth,
}
