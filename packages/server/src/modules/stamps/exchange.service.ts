import type { StampsDeps } from './stamps.deps.js'
import { webAuthorizeUrl } from '@kaguan/alipay'
import type { AppDeps } from '../../deps.js'
import { acceptOnce, forgetMessage } from '../inbox/index.js'
import { alipayContext, explainAlipayError } from '../merchants/index.js'
import { findActivityAnywhere, getActivity, koubeiPorts } from './activity.service.js'
import { memberOfTrade } from './earning.service.js'
import { StampErrors } from './stamps.errors.js'
import * as repo from './stamps.repository.js'
import { applyLedger, type LedgerOptions, type StampHoldView } from './stamps.service.js'
import type { VoucherProvider } from './voucher-provider.js'

/** The mini role's exchange page of an activity (the card's action point, a link, a QR code). */
export const EXCHANGE_PATH = '/stamps/exchange'

export interface ExchangeLink {
  /** Put this on the card (a URL action point), in a link or a QR code: opened in Alipay it works. */
  url: string
  /** Where `url` sends a user who arrives without an auth code: Alipay's web authorization. */
  authorizeUrl: string
}

/**
 * The exchange page of a published exchange activity. Opened in Alipay without an `auth_code`
 * (an action point, a QR code) it sends the user through web authorization (`auth_base`, silent)
 * and back with one; `shopId` (kaguan's or the Alipay shop id) rides along to the coupon page.
 */
export async function exchangeLink(
  deps: Pick<AppDeps, 'db' | 'alipay' | 'cipher' | 'clock' | 'ids'>,
  activityId: string,
  options: { merchantId?: string; shopId?: string } = {},
): Promise<ExchangeLink> {
  const activity = options.merchantId
    ? await getActivity(deps, options.merchantId, activityId)
    : await findActivityAnywhere(deps, activityId)
  if (activity.type !== 'DIRECT_SEND') {
    throw StampErrors.invalid([{ field: 'activityId', message: 'is not an exchange activity' }])
  }
  const ctx = await alipayContext(deps, activity.merchantId)
  if (!ctx.publicBaseUrl) {
    throw StampErrors.invalid([
      {
        field: 'publicBaseUrl',
        message: 'the merchant needs its public URL for the exchange page',
      },
    ])
  }
  const url = new URL(`${ctx.publicBaseUrl}${EXCHANGE_PATH}/${activity.id}`)
  if (options.shopId) {
    url.searchParams.set('shopId', options.shopId)
  }
  return {
    url: url.toString(),
    authorizeUrl: webAuthorizeUrl(ctx.client.gateway, {
      appId: ctx.client.appId,
      redirectUri: url.toString(),
      scope: 'auth_base',
    }),
  }
}

export interface ExchangeStart {
  /** Where to send the member: the coupon page with its token. */
  url: string
  hold: StampHoldView
}

/**
 * The seed's exchange: FREEZE the voucher's cost (the hold lives the activity's TTL), ask the
 * voucher provider for this member's claim token (`prizesend.auth`), answer the coupon page.
 * When the provider refuses, the hold is cancelled at once: the member keeps the stamps.
 */
export async function startExchange(
  deps: StampsDeps,
  input: {
    merchantId: string
    exchangeActivityId: string
    alipayUserId: string
    shopId?: string
    /** A caller's retry key (a till's); absent: every call is a new exchange. */
    requestKey?: string
  },
  options: LedgerOptions & { vouchers?: VoucherProvider } = {},
): Promise<ExchangeStart> {
  const activity = await getActivity(deps, input.merchantId, input.exchangeActivityId)
  if (activity.type !== 'DIRECT_SEND') {
    throw StampErrors.invalid([{ field: 'activityId', message: 'is not an exchange activity' }])
  }
  if (activity.status !== 'published' || !activity.koubei?.itemId || !activity.koubei.couponUrl) {
    throw StampErrors.activityState(activity.id, activity.status, 'published')
  }
  const memberId = await memberOfTrade(deps, input.merchantId, { alipayUserId: input.alipayUserId })
  const outBizNo = `SX${deps.ids.next('x').slice(2)}`
  const frozen = await applyLedger(
    deps,
    {
      type: 'FREEZE',
      account: {
        merchantId: input.merchantId,
        memberId,
        activityId: activity.spec.stampActivityId,
      },
      amount: activity.spec.stampsPerVoucher,
      expiresAt: new Date(
        deps.clock.now().getTime() + activity.holdTtlSeconds * 1000,
      ).toISOString(),
      exchangeActivityId: activity.id,
      ...(input.requestKey ? {} : { outBizNo }),
    },
    {
      idempotencyKey: `exchange:${input.requestKey ?? outBizNo}`,
      reason: `exchange for ${activity.name}`,
      source: 'exchange',
      actor: `alipay:${input.alipayUserId}`,
    },
    options,
  )
  const hold = frozen.hold!
  if (hold.status !== 'held') {
    throw StampErrors.holdResolved(hold.id, hold.status)
  }
  // With a caller's key the outBizNo is the hold's id, so a retry asks for the same token.
  const bizNo = hold.outBizNo ?? hold.id
  try {
    const vouchers = options.vouchers ?? (await koubeiPorts(deps, input.merchantId)).vouchers
    const url = await vouchers.claimUrl({
      published: {
        campId: activity.koubei.campId,
        itemId: activity.koubei.itemId,
        couponUrl: activity.koubei.couponUrl,
      },
      alipayUserId: input.alipayUserId,
      outBizNo: bizNo,
      shopId: input.shopId,
    })
    return { url, hold }
  } catch (error) {
    await applyLedger(
      deps,
      { type: 'CANCEL', merchantId: input.merchantId, holdId: hold.id },
      {
        idempotencyKey: `exchange-failed:${hold.id}`,
        reason: 'the voucher provider refused the claim',
        source: 'exchange',
        actor: 'system',
      },
      options,
    )
    throw explainAlipayError(error, 'koubei.exchange')
  }
}

export type CouponOutcome = 'committed' | 'duplicate' | 'unknown' | 'late'

/**
 * The coupon-claimed notice (`koubei_receive_coupon_notify`), already verified: deduplicated by
 * `notify_id`, matched by `isv_out_biz_id` to its hold, which it COMMITs. A claim that arrives
 * after the hold expired still spends the stamps (the member has the coupon): taken back as far as
 * they are there, the rest recorded as a shortfall.
 */
export async function onCouponClaimed(
  deps: StampsDeps,
  merchantId: string,
  notice: { notifyId: string | undefined; isvOutBizId: string; buyerId: string },
  options: LedgerOptions = {},
): Promise<CouponOutcome> {
  const db = deps.db
  const messageId = notice.notifyId ?? `out:${notice.isvOutBizId}`
  if (!(await acceptOnce(deps, { source: 'koubei.coupon', messageId, merchantId }))) {
    return 'duplicate'
  }
  try {
    const hold =
      (await repo.findHoldByOutBizNo(db, merchantId, notice.isvOutBizId)) ??
      (await repo.findHold(db, notice.isvOutBizId))
    if (!hold || hold.merchant_id !== merchantId) {
      deps.log.warn(
        { merchantId, outBizNo: notice.isvOutBizId },
        'coupon notice for no known exchange',
      )
      return 'unknown'
    }
    if (hold.status === 'cancelled') {
      const account = (await repo.findAccount(db, hold.account_id))!
      await applyLedger(
        deps,
        {
          type: 'CONSUME',
          account: { merchantId, memberId: account.member_id, activityId: account.activity_id },
          amount: Number(hold.amount),
          allowShortfall: true,
        },
        {
          idempotencyKey: `coupon-late:${hold.id}`,
          reason: 'coupon claimed after the hold expired',
          source: 'exchange',
          actor: 'alipay',
        },
        options,
      )
      return 'late'
    }
    await applyLedger(
      deps,
      { type: 'COMMIT', merchantId, holdId: hold.id },
      {
        idempotencyKey: `coupon:${hold.id}`,
        reason: 'coupon claimed',
        source: 'exchange',
        actor: 'alipay',
      },
      options,
    )
    return 'committed'
  } catch (error) {
    // Not handled: forget the id so Alipay's retry is processed again.
    await forgetMessage(deps, 'koubei.coupon', messageId)
    throw error
  }
}
