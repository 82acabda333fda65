import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { verifyGatewayMessage } from '@kaguan/alipay'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import {
  APP_AUTH_CALLBACK_PATH,
  APP_AUTH_CANCELLED,
  completeAppAuth,
  handleAppAuthCancelled,
  isvApp,
  ISV_GATEWAY_PATH,
} from '../../modules/merchants/index.js'
import { isAppError } from '../../shared/errors.js'

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function resultPage(ok: boolean, title: string, text: string, code?: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)}</title><style>body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f5f5;margin:0;padding:48px 20px;text-align:center;color:#333}
.box{background:#fff;border-radius:12px;max-width:420px;margin:0 auto;padding:32px 24px;box-shadow:0 1px 4px rgba(0,0,0,.08)}h1{font-size:20px;margin:12px 0}.icon{font-size:48px}p{color:#666;line-height:1.6}</style></head>
<body><div class="box"><div class="icon">${ok ? '✅' : '⚠️'}</div><h1 id="app-auth-result" data-status="${ok ? 'authorised' : 'failed'}"${code ? ` data-code="${escape(code)}"` : ''}>${escape(title)}</h1><p>${escape(text)}</p></div></body></html>`
}

/**
 * The public side of onboarding: where Alipay sends the authorising merchant's owner back, and the
 * ISV app's message gateway (the authorisation-cancelled message).
 */
export function registerAppAuthMiniRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    APP_AUTH_CALLBACK_PATH,
    {
      schema: {
        description:
          "The ISV app's 授权回调地址: Alipay sends the merchant's owner here with app_auth_code after the authorisation.",
        querystring: Type.Object({
          app_auth_code: Type.Optional(Type.String()),
          app_id: Type.Optional(Type.String()),
          state: Type.Optional(Type.String()),
          source: Type.Optional(Type.String()),
        }),
      },
    },
    async (req, reply) => {
      const q = req.query
      const send = (status: number, body: string) =>
        reply
          .code(status)
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(body)
      if (!q.app_auth_code) {
        return send(
          400,
          resultPage(
            false,
            '授权未完成',
            '没有收到授权码。请重新打开授权链接。',
            'APP_AUTH_CODE_MISSING',
          ),
        )
      }
      try {
        const done = await completeAppAuth(deps, {
          appId: q.app_id,
          appAuthCode: q.app_auth_code,
          state: q.state,
        })
        return send(
          200,
          resultPage(true, '授权成功', `商户「${done.merchantName}」已授权，可以关闭本页面。`),
        )
      } catch (error) {
        if (!isAppError(error)) {
          throw error
        }
        deps.log.warn({ code: error.code }, 'app authorisation callback failed')
        return send(
          error.retryable ? 503 : 400,
          resultPage(false, '授权未完成', error.message, error.code),
        )
      }
    },
  )

  app.post(
    ISV_GATEWAY_PATH,
    {
      schema: {
        description:
          "The ISV app's gateway (应用网关): Alipay's messages to the ISV's own app, e.g. alipay.open.auth.appauth.cancelled.",
      },
    },
    async (req, reply) => {
      const answer = (ok: boolean) => reply.type('text/plain').send(ok ? 'success' : 'fail')
      if (!Buffer.isBuffer(req.body)) {
        return answer(false)
      }
      try {
        const isv = isvApp(deps.config)
        const verified = verifyGatewayMessage(req.body, isv.alipayPublicKey)
        if (!verified.ok || verified.message.kind !== 'message') {
          deps.log.warn(
            { reason: verified.ok ? 'not a message' : verified.reason },
            'ISV gateway message refused',
          )
          return answer(false)
        }
        const message = verified.message
        if (message.appId !== undefined && message.appId !== isv.appId) {
          return answer(false)
        }
        if (message.msgMethod === APP_AUTH_CANCELLED) {
          const revoked = await handleAppAuthCancelled(deps, {
            notifyId: message.notifyId,
            appId: message.appId,
            bizContent: message.bizContent,
          })
          deps.log.info({ revoked }, 'app authorisation cancelled by the merchant')
        } else {
          deps.log.info({ msgMethod: message.msgMethod }, 'ISV gateway message ignored')
        }
        return answer(true)
      } catch (error) {
        deps.log.warn({ err: error }, 'ISV gateway message not handled')
        return answer(false)
      }
    },
  )
}
