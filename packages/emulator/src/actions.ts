import {
  findApp,
  findCard,
  findTemplate,
  findUser,
  notifyCardChange,
  saveCard,
  writeOffType,
} from './cards.js'
import type { CardRecord } from './cards.js'
import { alipayTime, digits, longId, userId as newUserId } from './ids.js'
import { requestMdcode } from './methods/card-methods.js'
import { couponPageUrl, findActivityByItem } from './methods/koubei-methods.js'
import { NotifyKind } from './notifier.js'
import type { Runtime, UserRecord } from './runtime.js'
import { parseAlipayTime } from './ids.js'

/** A user action the emulator refuses (bad input or state), with a stable code. */
export class ActionError extends Error {
  override name = 'ActionError'
  readonly code: string
  readonly status: number
  constructor(code: string, message: string, status = 400) {
    super(message)
    this.code = code
    this.status = status
  }
}

const surnames = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄']
const givenNames = ['伟', '芳', '娜', '敏', '静', '磊', '洋', '艳']

/** Creates a user; missing profile fields get plausible values. */
export function createUser(rt: Runtime, input: Partial<Omit<UserRecord, 'userId'>>): UserRecord {
  const pick = (list: string[]): string => list[Math.floor(Math.random() * list.length)] as string
  const user: UserRecord = {
    userId: newUserId(),
    name: input.name ?? `${pick(surnames)}${pick(givenNames)}`,
    mobile: input.mobile ?? `13${digits(9)}`,
    gender: input.gender ?? '男',
    certNo: input.certNo ?? `330106${1980 + Math.floor(Math.random() * 20)}0101${digits(4)}`,
    lat: input.lat ?? 30.2741,
    lng: input.lng ?? 120.1551,
  }
  rt.db
    .prepare('insert into users (user_id, data, created_at) values (?, ?, ?)')
    .run(user.userId, JSON.stringify(user), new Date().toISOString())
  return user
}

/** The code a card shows now: static codes encode external_card_no; dynamic ones may be pending. */
export interface CardCode {
  kind: 'qrcode' | 'barcode' | 'text' | 'none'
  value: string | null
  dynamic: boolean
}

/** The card's current code without side effects. */
export function currentCode(rt: Runtime, card: CardRecord): CardCode {
  const template = findTemplate(rt, card.templateId)
  const type = template === undefined ? 'qrcode' : writeOffType(template)
  const kind: CardCode['kind'] = type.endsWith('barcode')
    ? 'barcode'
    : type.endsWith('qrcode')
      ? 'qrcode'
      : type === 'text'
        ? 'text'
        : 'none'
  if (type === 'qrcode' || type === 'barcode' || type === 'text') {
    return { kind, value: card.externalCardNo, dynamic: false }
  }
  if (type === 'dqrcode' || type === 'dbarcode') {
    const row = rt.db
      .prepare(
        'select code from dynamic_codes where biz_card_no = ? and expires_at > ? order by expires_at desc',
      )
      .get(card.bizCardNo, Date.now()) as { code: string } | undefined
    return { kind, value: row?.code ?? null, dynamic: true }
  }
  if (type === 'mdqrcode' || type === 'mdbarcode') {
    const info = card.data.mdcode_info as Record<string, unknown> | undefined
    const expire =
      typeof info?.expire_time === 'string' ? parseAlipayTime(info.expire_time) : undefined
    const valid =
      info?.code_status === 'SUCCESS' &&
      typeof info.code_value === 'string' &&
      (expire === undefined || expire > Date.now())
    return { kind, value: valid ? (info.code_value as string) : null, dynamic: true }
  }
  return { kind: 'none', value: null, dynamic: false }
}

/**
 * The user opens the card in the wallet: an Alipay dynamic code is minted (valid ~2 minutes), or
 * the merchant is asked for its dynamic code through the mdcode notification.
 */
export function showCard(
  rt: Runtime,
  bizCardNo: string,
): { card: CardRecord; code: CardCode; mdcodeNotifyId?: string } {
  const card = findCard(rt, bizCardNo)
  if (card === undefined || card.status !== 'ACTIVE') {
    throw new ActionError('CARD_NOT_FOUND', `会员卡不存在:${bizCardNo}`, 404)
  }
  const code = currentCode(rt, card)
  const template = findTemplate(rt, card.templateId)
  const type = template === undefined ? 'qrcode' : writeOffType(template)
  if (type === 'dqrcode' || type === 'dbarcode') {
    const value = `28${digits(16)}`
    rt.db
      .prepare('insert into dynamic_codes (code, biz_card_no, expires_at) values (?, ?, ?)')
      .run(value, card.bizCardNo, Date.now() + 120_000)
    return { card, code: { ...code, value } }
  }
  if ((type === 'mdqrcode' || type === 'mdbarcode') && code.value === null) {
    const id = requestMdcode(rt, card)
    return { card, code, ...(id !== undefined ? { mdcodeNotifyId: id } : {}) }
  }
  return { card, code }
}

/** The user removes the card from the card bag (card.query then answers an empty schema_url). */
export function removeCard(rt: Runtime, bizCardNo: string): CardRecord {
  const card = findCard(rt, bizCardNo)
  if (card === undefined || card.status !== 'ACTIVE') {
    throw new ActionError('CARD_NOT_FOUND', `会员卡不存在:${bizCardNo}`, 404)
  }
  card.status = 'REMOVED'
  saveCard(rt, card)
  if (rt.behaviour.notifyOnUserRemove) {
    notifyCardChange(rt, card, 'delete', 'USER_UNBUND')
  }
  return card
}

/** A face-to-face trade in a shop, notified like 当面付's `trade_status_sync` (koubei §6.1). */
export function pay(
  rt: Runtime,
  input: {
    userId: string
    appId: string
    shopId?: string
    amount: string
    notifyUrl?: string
    subject?: string
  },
): { tradeNo: string; outTradeNo: string; notifyId: string | null } {
  const user = findUser(rt, input.userId)
  if (user === undefined) {
    throw new ActionError('USER_NOT_FOUND', `用户不存在:${input.userId}`, 404)
  }
  const app = findApp(rt, input.appId)
  if (app === undefined) {
    throw new ActionError('APP_NOT_FOUND', `应用不存在:${input.appId}`, 404)
  }
  if (!/^\d+(\.\d{1,2})?$/.test(input.amount) || Number(input.amount) <= 0) {
    throw new ActionError('INVALID_AMOUNT', `金额格式错误:${input.amount}`)
  }
  const amount = Number(input.amount).toFixed(2)
  const now = Date.now()
  const tradeNo = `${alipayTime(now).slice(0, 10).replaceAll('-', '')}22001${digits(17)}`
  const outTradeNo = `EMU${now}${digits(6)}`
  const fields: Record<string, string> = {
    notify_type: 'trade_status_sync',
    app_id: app.appId,
    auth_app_id: app.appId,
    trade_no: tradeNo,
    out_trade_no: outTradeNo,
    buyer_id: user.userId,
    seller_id: `2088${digits(12)}`,
    trade_status: 'TRADE_SUCCESS',
    total_amount: amount,
    receipt_amount: amount,
    buyer_pay_amount: amount,
    invoice_amount: amount,
    subject: input.subject ?? '门店消费',
    gmt_create: alipayTime(now),
    gmt_payment: alipayTime(now),
    fund_bill_list: JSON.stringify([{ amount, fundChannel: 'ALIPAYACCOUNT' }]),
    ...(input.shopId !== undefined && rt.behaviour.tradeNotifyIncludesStoreId
      ? { store_id: input.shopId }
      : {}),
  }
  rt.db
    .prepare('insert into trades (trade_no, data, created_at) values (?, ?, ?)')
    .run(
      tradeNo,
      JSON.stringify({ ...fields, shop_id: input.shopId ?? null }),
      new Date(now).toISOString(),
    )
  const url = input.notifyUrl ?? app.tradeNotifyUrl ?? app.gatewayUrl
  const notifyId =
    url === undefined ? null : rt.notifier.send(NotifyKind.Trade, app.appId, url, fields)
  return { tradeNo, outTradeNo, notifyId }
}

/**
 * A refund of an earlier `pay` trade, notified like 当面付 does (koubei §9 "Trade simulator"): a
 * full refund closes the trade (`TRADE_CLOSED`), a partial one keeps `TRADE_SUCCESS`; both carry
 * `refund_fee` and `gmt_refund`.
 */
export function refund(
  rt: Runtime,
  input: { tradeNo: string; amount?: string },
): { tradeNo: string; refundFee: string; tradeStatus: string; notifyId: string | null } {
  const row = rt.db.prepare('select data from trades where trade_no = ?').get(input.tradeNo) as
    { data: string } | undefined
  if (row === undefined) {
    throw new ActionError('TRADE_NOT_FOUND', `交易不存在:${input.tradeNo}`, 404)
  }
  const trade = JSON.parse(row.data) as Record<string, string>
  const total = Number(trade.total_amount)
  const fee = input.amount === undefined ? total : Number(input.amount)
  if (!Number.isFinite(fee) || fee <= 0 || fee > total) {
    throw new ActionError('INVALID_AMOUNT', `退款金额错误:${input.amount}`)
  }
  const app = findApp(rt, trade.app_id ?? '')
  if (app === undefined) {
    throw new ActionError('APP_NOT_FOUND', `应用不存在:${trade.app_id}`, 404)
  }
  const now = Date.now()
  const tradeStatus = fee === total ? 'TRADE_CLOSED' : 'TRADE_SUCCESS'
  const { shop_id: _shop, ...fields } = trade
  const notice: Record<string, string> = {
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => typeof v === 'string')),
    notify_type: 'trade_status_sync',
    trade_status: tradeStatus,
    refund_fee: fee.toFixed(2),
    gmt_refund: alipayTime(now),
  }
  delete notice.notify_id
  delete notice.notify_time
  delete notice.sign
  delete notice.sign_type
  const url = app.tradeNotifyUrl ?? app.gatewayUrl
  const notifyId =
    url === undefined ? null : rt.notifier.send(NotifyKind.Trade, app.appId, url, notice)
  return { tradeNo: input.tradeNo, refundFee: fee.toFixed(2), tradeStatus, notifyId }
}

/**
 * The user claims a Koubei coupon through the prize link (koubei §5): the token must be unused and
 * unexpired and belong to the user; the merchant gets `koubei_receive_coupon_notify`.
 */
export function claimCoupon(
  rt: Runtime,
  input: { itemId: string; token: string; outBizNo: string; userId?: string },
): { couponId: string; campId: string; userId: string; notifyId: string | null } {
  const row = rt.db
    .prepare('select app_id, prize_id, user_id, used, expires_at from prize_tokens where token = ?')
    .get(input.token) as
    | { app_id: string; prize_id: string; user_id: string; used: number; expires_at: number }
    | undefined
  if (row === undefined || row.prize_id !== input.itemId) {
    throw new ActionError('TOKEN_INVALID', '领取凭证无效')
  }
  if (row.used === 1) {
    throw new ActionError('TOKEN_USED', '该优惠券已领取', 409)
  }
  if (row.expires_at < Date.now()) {
    throw new ActionError('TOKEN_EXPIRED', '领取凭证已过期', 410)
  }
  if (input.userId !== undefined && input.userId !== row.user_id) {
    throw new ActionError('USER_MISMATCH', '领取用户与授权用户不一致', 403)
  }
  const activity = findActivityByItem(rt, input.itemId)
  if (activity === undefined) {
    throw new ActionError('PRIZE_NOT_FOUND', '奖品不存在', 404)
  }
  const budget = activity.data.budget_info as Record<string, unknown> | undefined
  const total = Number(budget?.budget_total ?? Infinity)
  const issued = (
    rt.db.prepare('select count(*) as n from coupons where camp_id = ?').get(activity.campId) as {
      n: number
    }
  ).n
  if (issued >= total) {
    throw new ActionError('BUDGET_EXHAUSTED', '优惠券已领完', 409)
  }
  const couponId = longId()
  rt.db.transaction(() => {
    rt.db.prepare('update prize_tokens set used = 1 where token = ?').run(input.token)
    rt.db
      .prepare(
        'insert into coupons (coupon_id, camp_id, user_id, out_biz_no, token, created_at) values (?, ?, ?, ?, ?, ?)',
      )
      .run(
        couponId,
        activity.campId,
        row.user_id,
        input.outBizNo,
        input.token,
        new Date().toISOString(),
      )
  })()
  const app = findApp(rt, activity.appId)
  const url = activity.notifyUrl ?? app?.gatewayUrl
  const notifyId =
    url === undefined || url === null
      ? null
      : rt.notifier.send(NotifyKind.CouponReceived, activity.appId, url, {
          notify_type: 'koubei_receive_coupon_notify',
          event_code: 'EC-promocore-prize-notice',
          app_id: activity.appId,
          auth_app_id: activity.appId,
          buyer_id: row.user_id,
          merchant_uid: `2088${activity.appId.slice(-12).padStart(12, '0')}`,
          isv_out_biz_id: input.outBizNo,
          business_order: `${row.user_id}|${activity.campId}`,
          id: activity.campId,
          coupon_id: couponId,
        })
  return { couponId, campId: activity.campId, userId: row.user_id, notifyId }
}

export { couponPageUrl }
