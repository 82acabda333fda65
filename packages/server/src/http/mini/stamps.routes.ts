import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { parseFormBody, verifyCouponNotify } from '@kaguan/alipay'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { acceptOnce, forgetMessage } from '../../modules/inbox/index.js'
import { alipayContext, explainAlipayError, notifiedApp } from '../../modules/merchants/index.js'
import * as stamps from '../../modules/stamps/index.js'

/**
 * A verified `trade_status_sync` notification (当面付): a paid trade earns stamps, a refund
 * (`refund_fee`, or `TRADE_CLOSED`) takes back what the trade earned. Deduplicated by `notify_id`;
 * the ledger's keys make a new notification of the same trade earn nothing more. A buyer who is
 * not a member earns nothing, and the message is still answered `success`.
 */
export async function handleTradeNotify(
  deps: AppDeps,
  merchantId: string,
  params: Readonly<Record<string, string>>,
): Promise<void> {
  const tradeNo = params.trade_no
  if (!tradeNo || !params.buyer_id) {
    deps.log.warn({ merchantId }, 'trade notification without trade_no or buyer_id')
    return
  }
  const messageId =
    params.notify_id ?? `${tradeNo}:${params.trade_status}:${params.refund_fee ?? ''}`
  if (!(await acceptOnce(deps, { source: 'alipay.trade', messageId, merchantId }))) {
    return
  }
  try {
    const refunded = params.trade_status === 'TRADE_CLOSED' || Boolean(params.refund_fee)
    if (refunded) {
      await stamps.refundTrade(
        deps,
        { merchantId, tradeNo, actor: 'alipay' },
        stamps.withCardPush(deps),
      )
      return
    }
    if (params.trade_status !== 'TRADE_SUCCESS' && params.trade_status !== 'TRADE_FINISHED') {
      return
    }
    await stamps.earnForTrade(
      deps,
      {
        merchantId,
        tradeNo,
        amount: params.total_amount ?? '0',
        alipayUserId: params.buyer_id,
        ...(params.store_id ? { alipayShopId: params.store_id } : {}),
        source: 'trade',
        actor: 'alipay',
      },
      stamps.withCardPush(deps),
    )
  } catch (error) {
    if ((error as { code?: string }).code === 'STAMPS_MEMBER_NOT_FOUND') {
      return
    }
    await forgetMessage(deps, 'alipay.trade', messageId)
    throw error
  }
}

/** The mini role's point-collection routes: Koubei's coupon notice and the exchange entry. */
export function registerStampMiniRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    `${stamps.KOUBEI_NOTIFY_PATH}/:merchantId?`,
    {
      schema: {
        params: Type.Object({ merchantId: Type.Optional(Type.String({ maxLength: 64 })) }),
        summary: 'Koubei coupon-claimed notice',
        description:
          'koubei_receive_coupon_notify (EC-promocore-prize-notice), the notify_url of kaguan’s Koubei activities: verified, deduplicated by notify_id, matched by isv_out_biz_id; commits the exchange’s frozen stamps. Answers success or fail.',
      },
    },
    async (req, reply) => {
      // A malformed notice is Koubei's `fail`, never a 500.
      const ok =
        Buffer.isBuffer(req.body) &&
        (await onCouponNotify(deps, req.body, req.params.merchantId).catch((error: unknown) => {
          deps.log.warn({ err: error }, 'coupon notice not handled')
          return false
        }))
      return reply.type('text/plain').send(ok ? 'success' : 'fail')
    },
  )

  app.get(
    `${stamps.EXCHANGE_PATH}/:activityId`,
    {
      schema: {
        summary: 'Exchange stamps for a coupon',
        description:
          'The card’s exchange action: without auth_code it sends the user through Alipay’s web authorization (auth_base) and back; the user’s auth code names them; kaguan freezes the cost, asks Koubei for a claim token (prizesend.auth) and redirects to the coupon page (itemId, token, outBizNo, buyerId, shopId, type=pointcard).',
        params: Type.Object({ activityId: Type.String({ minLength: 1 }) }),
        querystring: Type.Object({
          auth_code: Type.Optional(Type.String({ minLength: 1 })),
          shopId: Type.Optional(Type.String({ minLength: 1 })),
        }),
      },
    },
    async (req, reply) => {
      if (!req.query.auth_code) {
        // An action point or a QR code: Alipay names the user, then sends them back here.
        const link = await stamps.exchangeLink(deps, req.params.activityId, {
          ...(req.query.shopId ? { shopId: req.query.shopId } : {}),
        })
        return reply.header('cache-control', 'no-store').redirect(link.authorizeUrl, 302)
      }
      const activity = await stamps.findActivityAnywhere(deps, req.params.activityId)
      const ctx = await alipayContext(deps, activity.merchantId)
      let userId: string | undefined
      try {
        userId = (
          await ctx.client.exchangeAuthCode(req.query.auth_code, { appAuthToken: ctx.appAuthToken })
        ).user_id
      } catch (error) {
        throw explainAlipayError(error, 'oauth')
      }
      if (!userId) {
        throw stamps.StampErrors.memberNotFound('(no user id for the auth code)')
      }
      const started = await stamps.startExchange(
        deps,
        {
          merchantId: activity.merchantId,
          exchangeActivityId: activity.id,
          alipayUserId: userId,
          ...(req.query.shopId ? { shopId: req.query.shopId } : {}),
        },
        stamps.withCardPush(deps),
      )
      return reply.header('cache-control', 'no-store').redirect(started.url, 302)
    },
  )
}

/** Verifies and handles a coupon notice; false answers `fail` (Koubei retries). */
export async function onCouponNotify(
  deps: AppDeps,
  body: Buffer,
  pathMerchant?: string,
): Promise<boolean> {
  const params = parseFormBody(body)
  const sender = await notifiedApp(deps, {
    ...(pathMerchant ? { merchantId: pathMerchant } : {}),
    ...(params.app_id ? { appId: params.app_id } : {}),
  })
  if (!sender?.merchantId || !sender.alipayPublicKey) {
    deps.log.warn({ appId: params.app_id }, 'coupon notice for an unknown app')
    return false
  }
  const verified = verifyCouponNotify(body, sender.alipayPublicKey)
  if (!verified.ok) {
    deps.log.warn(
      { reason: verified.reason, merchantId: sender.merchantId },
      'coupon notice refused',
    )
    return false
  }
  const m = verified.message
  const outcome = await stamps.onCouponClaimed(
    deps,
    sender.merchantId,
    { notifyId: m.notifyId, isvOutBizId: m.isvOutBizId, buyerId: m.buyerId },
    stamps.withCardPush(deps),
  )
  deps.log.info(
    { merchantId: sender.merchantId, outcome, outBizNo: m.isvOutBizId },
    'coupon notice',
  )
  return true
}
