import { randomBytes } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  parseFormBody,
  verifyGatewayMessage,
  verifyMdcodeNotify,
  verifyNotify,
} from '@kaguan/alipay'
import { ComponentPublicView, ErrorBody } from '@kaguan/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AppDeps } from '../../deps.js'
import {
  claimCard,
  componentCard,
  handleAlipayMessage,
  handleCardNotification,
  handleMdcode,
} from '../../modules/cards/index.js'
import { notifiedApp } from '../../modules/merchants/index.js'
import { componentPublicView, latestClaimUrl } from '../../modules/templates/index.js'
import { keepFormBodiesRaw } from '../app.js'
import { registerAppAuthMiniRoutes } from './app-auth.routes.js'
import { claimPage } from './claim-page.js'
import { isOpenCardSpi, onOpenCardSpi } from './spi.routes.js'
import { handleTradeNotify, onCouponNotify, registerStampMiniRoutes } from './stamps.routes.js'

const DEVICE_COOKIE = 'kg_dev'
const DEVICE_COOKIE_MAX_AGE_S = 400 * 24 * 3600

/**
 * kaguan's device cookie on the user's phone, set on the first claim page it shows: the per-device
 * claim limit counts by it. A weak signal (a user can clear cookies; Alipay's in-app browser keeps
 * them per phone), which is why limits per IP and per day stand beside it.
 */
function deviceCookie(req: FastifyRequest, reply: FastifyReply): string {
  const existing = /(?:^|;\s*)kg_dev=([A-Za-z0-9_-]{16,64})(?:;|$)/.exec(req.headers.cookie ?? '')
  if (existing) {
    return existing[1]!
  }
  const id = randomBytes(16).toString('base64url')
  void reply.header(
    'set-cookie',
    `${DEVICE_COOKIE}=${id}; Max-Age=${DEVICE_COOKIE_MAX_AGE_S}; Path=/; HttpOnly; SameSite=Lax${req.protocol === 'https' ? '; Secure' : ''}`,
  )
  return id
}

/**
 * The public `mini` role: the claim callback (`/aliCallback`), Alipay's notifications and gateway
 * messages, the merchant dynamic-code notify, and the card component a mini-program page reads.
 * Alipay's messages are answered `success` once handled and `fail` otherwise (Alipay retries).
 */
export function registerMini(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const cards = deps
  // Alipay posts forms, possibly in GBK: keep the raw bytes and decode by the declared charset.
  keepFormBodiesRaw(app)

  app.get(
    '/aliCallback',
    {
      schema: {
        description:
          'Where Alipay sends the user after the open-card form (授权回调地址): opens the card and shows the result.',
        querystring: Type.Object({
          auth_code: Type.String({ minLength: 1 }),
          template_id: Type.String({ minLength: 1 }),
          request_id: Type.String({ minLength: 1 }),
          app_id: Type.String({ minLength: 1 }),
          out_string: Type.Optional(Type.String()),
        }),
      },
      // A missing parameter is the user's browser, not an API client: answer with a page.
      errorHandler: (error, _req, reply) => {
        void reply
          .code(400)
          .type('text/html; charset=utf-8')
          .send(
            claimPage(
              {
                status: 'failed',
                code: 'CLAIM_BAD_CALLBACK',
                message: `领卡链接不完整（${error.message}），请重新打开领卡链接。`,
                retryable: false,
              },
              undefined,
            ),
          )
      },
    },
    async (req, reply) => {
      const q = req.query
      const deviceId = deviceCookie(req, reply)
      const outcome = await claimCard(cards, {
        appId: q.app_id,
        authCode: q.auth_code,
        templateId: q.template_id,
        requestId: q.request_id,
        ...(q.out_string ? { outString: q.out_string } : {}),
        origin: { ip: req.ip, deviceId },
      })
      // A refusal (a claim limit, a block) is final: no "try again" link to the same refusal.
      const retryUrl =
        outcome.status === 'failed' && outcome.retryable
          ? await latestClaimUrl(deps, q.template_id)
          : undefined
      const status =
        outcome.status === 'done'
          ? 200
          : outcome.status === 'pending'
            ? 202
            : outcome.retryable
              ? 503
              : 400
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(claimPage(outcome, retryUrl))
    },
  )

  const answer = (reply: FastifyReply, ok: boolean) =>
    reply.type('text/plain').send(ok ? 'success' : 'fail')

  /**
   * Runs one Alipay message handler so that a malformed message (not a form, an unknown charset,
   * a body the SDK's check chokes on) is answered the protocol's `fail` and logged once, never a 500.
   */
  const alipayMessage =
    (
      what: string,
      handle: (
        body: Buffer,
        merchantId: string | undefined,
        reply: FastifyReply,
      ) => Promise<unknown>,
    ) =>
    async (req: FastifyRequest<{ Params: { merchantId?: string } }>, reply: FastifyReply) => {
      if (!Buffer.isBuffer(req.body)) {
        deps.log.warn({ contentType: req.headers['content-type'] }, `${what} that is not a form`)
        return answer(reply.code(415), false)
      }
      try {
        return await handle(req.body, req.params.merchantId, reply)
      } catch (error) {
        deps.log.warn({ err: error, merchantId: req.params.merchantId }, `${what} not handled`)
        return answer(reply, false)
      }
    }

  /** Card open/delete notifications (template notify_url) and app-gateway messages. */
  const onAlipayMessage =
    (gateway: boolean) =>
    async (body: Buffer, pathMerchant: string | undefined, reply: FastifyReply) => {
      const params = parseFormBody(body)
      // 3.1 极速版: the open-card SPI may be addressed to the app gateway (it names biz_app_id).
      if (gateway && isOpenCardSpi(params)) {
        return onOpenCardSpi(deps, body, params, pathMerchant, reply)
      }
      const sender = await notifiedApp(deps, {
        ...(pathMerchant ? { merchantId: pathMerchant } : {}),
        ...(params.app_id ? { appId: params.app_id } : {}),
      })
      if (!sender) {
        deps.log.warn(
          { appId: params.app_id, merchantId: pathMerchant },
          'Alipay message for an unknown app, or an app id several merchants share (use the per-merchant URL)',
        )
        return answer(reply, false)
      }
      const { merchantId, alipayPublicKey: key } = sender
      if (gateway && params.msg_method) {
        const verified = verifyGatewayMessage(body, key)
        if (!verified.ok) {
          deps.log.warn(
            { reason: verified.reason, merchantId },
            'Alipay gateway message with a bad signature',
          )
          return answer(reply, false)
        }
        // The same handling as a message of the long connection (modules/channel).
        await handleAlipayMessage(cards, merchantId, {
          messageId: params.notify_id,
          method: params.msg_method,
          bizContent: 'bizContent' in verified.message ? verified.message.bizContent : undefined,
        })
        return answer(reply, true)
      }
      // Point collection (集点): Koubei's coupon notice and trades, wherever Alipay sent them.
      if (params.notify_type === 'koubei_receive_coupon_notify') {
        return answer(reply, await onCouponNotify(deps, body, pathMerchant))
      }
      const verified = verifyNotify(body, key)
      if (!verified.ok) {
        deps.log.warn(
          { reason: verified.reason, merchantId },
          'Alipay notification with a bad signature',
        )
        return answer(reply, false)
      }
      if (params.notify_type === 'trade_status_sync') {
        await handleTradeNotify(deps, merchantId, verified.message.params)
        return answer(reply, true)
      }
      await handleCardNotification(cards, merchantId, {
        ...(params.notify_id ? { notifyId: params.notify_id } : {}),
        type: params.notify_type ?? '',
        ...(params.biz_card_no ? { alipayCardNo: params.biz_card_no } : {}),
        ...(params.reason_code ? { reason: params.reason_code } : {}),
      })
      return answer(reply, true)
    }
  const MerchantPath = Type.Object({ merchantId: Type.Optional(Type.String({ maxLength: 64 })) })
  app.post(
    '/alipay/notify/:merchantId?',
    {
      schema: {
        description:
          "Alipay's card open/delete notifications (the template notify_url kaguan registers, /alipay/notify/<merchant id>).",
        params: MerchantPath,
      },
    },
    alipayMessage('Alipay notification', onAlipayMessage(false)),
  )
  app.post(
    '/alipay/gateway/:merchantId?',
    {
      schema: {
        description:
          "The app gateway (应用网关, /alipay/gateway/<merchant id>): Alipay's messages to this app.",
        params: MerchantPath,
      },
    },
    alipayMessage('Alipay gateway message', onAlipayMessage(true)),
  )

  registerStampMiniRoutes(app, deps)
  app.post(
    '/alipay/spi/:merchantId?',
    {
      schema: {
        description:
          "Alipay's 3.1 (极速版) open-card SPI `spi.alipay.user.opencard.get` (/alipay/spi/<merchant id>); the app gateway takes it too.",
        params: MerchantPath,
      },
    },
    alipayMessage('open-card SPI', (body, pathMerchant, reply) =>
      onOpenCardSpi(deps, body, parseFormBody(body), pathMerchant, reply),
    ),
  )
  registerAppAuthMiniRoutes(app, deps)

  app.post(
    '/alipay/mdcode/:merchantId?',
    {
      schema: {
        description:
          'Merchant dynamic code (商户动态码) notify (/alipay/mdcode/<merchant id>, the mdcode_notify_conf url kaguan registers): a user opened a dynamic-code card.',
        params: MerchantPath,
      },
    },
    alipayMessage('mdcode notify', async (body, pathMerchant, reply) => {
      const params = parseFormBody(body, 'gbk')
      // Real Alipay sends BizCardNo and the template's ext_params, not necessarily an app id: the
      // merchant comes from the path kaguan registered.
      const sender = await notifiedApp(deps, {
        ...(pathMerchant ? { merchantId: pathMerchant } : {}),
        ...(params.app_id ? { appId: params.app_id } : {}),
      })
      const key = sender?.alipayPublicKey
      // Alipay signs these with its fixed mdcode key in GBK; a gateway (e.g. the emulator) may use the app's Alipay key.
      const verified = [
        verifyMdcodeNotify(body),
        ...(key ? [verifyMdcodeNotify(body, { alipayPublicKey: key, charset: 'utf-8' })] : []),
      ].find((v) => v.ok)
      if (!sender || !verified?.ok) {
        deps.log.warn(
          { appId: params.app_id, merchantId: pathMerchant },
          'mdcode notify not verified',
        )
        return answer(reply, false)
      }
      await handleMdcode(cards, sender.merchantId, verified.message.bizCardNo)
      return answer(reply, true)
    }),
  )

  app.get(
    '/api/components/:componentId',
    {
      schema: {
        description:
          "The card component a mini-program page shows: the template's look and its claim link.",
        params: Type.Object({ componentId: Type.String({ minLength: 1 }) }),
        response: { 200: ComponentPublicView, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      // Mini-program pages are served from Alipay's domains.
      void reply.header('access-control-allow-origin', '*')
      return componentPublicView(deps, req.params.componentId)
    },
  )

  app.get(
    '/api/components/:componentId/card',
    {
      schema: {
        description:
          "The user's card for a component (points, level, balance, code), given the user's auth code from my.getAuthCode.",
        params: Type.Object({ componentId: Type.String({ minLength: 1 }) }),
        querystring: Type.Object({ authCode: Type.String({ minLength: 1 }) }),
      },
    },
    async (req, reply) => {
      void reply.header('access-control-allow-origin', '*')
      return componentCard(cards, req.params.componentId, req.query.authCode)
    },
  )
}
