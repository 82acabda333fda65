import type { FastifyInstance, FastifyReply } from 'fastify'
import { findApp } from './cards.js'
import { GatewayCode, GatewayError, businessError, invalidParameter } from './gateway/errors.js'
import type { CallContext, MethodDef } from './gateway/context.js'
import { optString } from './gateway/context.js'
import { alipayTime, digits, hexToken, userId as newUserId } from './ids.js'
import { NotifyKind } from './notifier.js'
import type { AppRecord, Runtime } from './runtime.js'
import { esc, page } from './wallet/html.js'

/**
 * Third-party app authorisation (第三方应用授权, docs/alipay-app-auth.md in the kaguan repo): the
 * authorisation page a merchant's owner confirms, `alipay.open.auth.token.app` (both grant types),
 * `.query`, and the `alipay.open.auth.appauth.cancelled` message when the merchant withdraws it.
 * A grant's `app_auth_token` makes the gateway act for the merchant's app (gateway.ts actingApp),
 * so its templates and cards are the merchant's, apart from every other merchant of the ISV.
 */

interface GrantRow {
  token: string
  refresh_token: string
  isv_app_id: string
  merchant_app_id: string
  user_id: string
  status: 'valid' | 'refreshed' | 'cancelled'
  expires_at: number
  re_expires_at: number
  auth_start: number
}

/** The methods an ISV's app may call for itself (never with an app_auth_token). */
const AUTH_METHODS = [
  'alipay.offline.material.image.upload',
  'alipay.marketing.card.template.create',
  'alipay.marketing.card.template.modify',
  'alipay.marketing.card.template.query',
  'alipay.marketing.card.formtemplate.set',
  'alipay.marketing.card.activateurl.apply',
  'alipay.marketing.card.activateform.query',
  'alipay.marketing.card.open',
  'alipay.marketing.card.query',
  'alipay.marketing.card.update',
  'alipay.marketing.card.delete',
  'alipay.system.oauth.token',
]

export function findGrant(rt: Runtime, token: string): GrantRow | undefined {
  return rt.db.prepare('select * from app_auth_grants where token = ?').get(token) as
    GrantRow | undefined
}

/**
 * The merchant app an `app_auth_token` of this ISV acts for: 20001 when unknown, another ISV's,
 * withdrawn, replaced by a refresh, or expired. Undefined when the token is not a grant of this
 * page's (the driver's `/__emulator/app-auth-tokens` tokens are checked by the gateway itself).
 */
export function grantedApp(
  rt: Runtime,
  caller: AppRecord,
  token: string,
): AppRecord | undefined | null {
  const grant = findGrant(rt, token)
  if (grant === undefined) {
    return undefined
  }
  const invalid = () =>
    new GatewayError(
      GatewayCode.TokenPermission,
      'aop.invalid-app-auth-token',
      '无效的应用授权令牌',
    )
  if (grant.isv_app_id !== caller.appId) {
    throw invalid()
  }
  if (
    grant.status === 'cancelled' ||
    (grant.status === 'refreshed' && !rt.behaviour.appAuthOldTokenSurvivesRefresh)
  ) {
    throw invalid()
  }
  if (grant.expires_at < Date.now()) {
    throw new GatewayError(
      GatewayCode.TokenPermission,
      'aop.app-auth-token-time-out',
      '应用授权令牌已过期',
    )
  }
  return findApp(rt, grant.merchant_app_id) ?? null
}

function issueGrant(
  rt: Runtime,
  isvAppId: string,
  merchantAppId: string,
  userId: string,
): Record<string, unknown> {
  const now = Date.now()
  const b = rt.behaviour
  const row: GrantRow = {
    token: `202${digits(3)}BB${hexToken(16)}`,
    refresh_token: `202${digits(3)}BB${hexToken(16)}`,
    isv_app_id: isvAppId,
    merchant_app_id: merchantAppId,
    user_id: userId,
    status: 'valid',
    expires_at: now + b.appAuthTokenTtlSeconds * 1000,
    re_expires_at: now + b.appAuthRefreshTtlSeconds * 1000,
    auth_start: now,
  }
  rt.db
    .prepare(
      `insert into app_auth_grants (token, refresh_token, isv_app_id, merchant_app_id, user_id, status,
         expires_at, re_expires_at, auth_start) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      row.token,
      row.refresh_token,
      row.isv_app_id,
      row.merchant_app_id,
      row.user_id,
      row.status,
      row.expires_at,
      row.re_expires_at,
      row.auth_start,
    )
  const grant = {
    user_id: userId,
    auth_app_id: merchantAppId,
    app_auth_token: row.token,
    app_refresh_token: row.refresh_token,
    expires_in: b.appAuthTokenTtlSeconds,
    re_expires_in: b.appAuthRefreshTtlSeconds,
  }
  // Older answers carry the grant flat; newer ones (batch authorisation) under `tokens`.
  return { ...grant, tokens: [grant] }
}

function requireIsvCall(ctx: CallContext): void {
  if (ctx.params.app_auth_token) {
    throw invalidParameter('app_auth_token 不能用于本接口')
  }
}

export const appAuthMethods: Record<string, MethodDef> = {
  'alipay.open.auth.token.app': {
    product: null,
    run(ctx) {
      requireIsvCall(ctx)
      const grantType = optString(ctx.biz, 'grant_type')
      if (grantType === 'authorization_code') {
        const code = optString(ctx.biz, 'code')
        if (code === undefined) {
          throw invalidParameter('code 不能为空')
        }
        const row = ctx.rt.db.prepare('select * from app_auth_codes where code = ?').get(code) as
          | {
              isv_app_id: string
              merchant_app_id: string
              user_id: string
              used: number
              expires_at: number
            }
          | undefined
        if (
          row === undefined ||
          row.isv_app_id !== ctx.callerAppId ||
          row.used === 1 ||
          row.expires_at < Date.now()
        ) {
          throw businessError('isv.code-invalid', '授权码code无效')
        }
        ctx.rt.db.prepare('update app_auth_codes set used = 1 where code = ?').run(code)
        return issueGrant(ctx.rt, ctx.callerAppId, row.merchant_app_id, row.user_id)
      }
      if (grantType === 'refresh_token') {
        const refresh = optString(ctx.biz, 'refresh_token')
        if (refresh === undefined) {
          throw invalidParameter('refresh_token 不能为空')
        }
        const row = ctx.rt.db
          .prepare('select * from app_auth_grants where refresh_token = ?')
          .get(refresh) as GrantRow | undefined
        if (row === undefined || row.isv_app_id !== ctx.callerAppId || row.status !== 'valid') {
          throw businessError('isv.refresh-token-invalid', '刷新令牌refresh_token无效')
        }
        if (row.re_expires_at < Date.now()) {
          throw businessError('isv.refresh-token-time-out', '刷新令牌refresh_token已过期')
        }
        ctx.rt.db
          .prepare("update app_auth_grants set status = 'refreshed' where token = ?")
          .run(row.token)
        return issueGrant(ctx.rt, ctx.callerAppId, row.merchant_app_id, row.user_id)
      }
      throw businessError('isv.grant-type-invalid', `grant_type 不合法:${grantType ?? ''}`)
    },
  },
  'alipay.open.auth.token.app.query': {
    product: null,
    run(ctx) {
      requireIsvCall(ctx)
      const token = optString(ctx.biz, 'app_auth_token')
      if (token === undefined) {
        throw invalidParameter('app_auth_token 不能为空')
      }
      const grant = findGrant(ctx.rt, token)
      if (grant === undefined || grant.isv_app_id !== ctx.callerAppId) {
        throw businessError('isv.invalid-app-auth-token', '无效的应用授权令牌')
      }
      const valid = grant.status === 'valid' && grant.expires_at > Date.now()
      return {
        user_id: grant.user_id,
        auth_app_id: grant.merchant_app_id,
        expires_in: Math.max(0, Math.floor((grant.expires_at - Date.now()) / 1000)),
        auth_methods: AUTH_METHODS,
        auth_start: alipayTime(grant.auth_start),
        auth_end: alipayTime(grant.expires_at),
        status: valid ? 'valid' : 'invalid',
      }
    },
  },
}

/**
 * Withdraws a merchant's grants to an ISV (the merchant's owner cancelled in Alipay) and tells the
 * ISV's app gateway with the `alipay.open.auth.appauth.cancelled` message. Answers how many
 * grants were withdrawn and the notification's id (null without a gateway URL).
 */
export function cancelGrants(
  rt: Runtime,
  input: { appAuthToken?: string; merchantAppId?: string; isvAppId?: string },
): { cancelled: number; notificationId: string | null } {
  const rows = (
    input.appAuthToken !== undefined
      ? [findGrant(rt, input.appAuthToken)].filter((r): r is GrantRow => r !== undefined)
      : (rt.db
          .prepare('select * from app_auth_grants where merchant_app_id = ?')
          .all(input.merchantAppId ?? '') as GrantRow[])
  ).filter(
    (r) =>
      r.status === 'valid' && (input.isvAppId === undefined || r.isv_app_id === input.isvAppId),
  )
  let notificationId: string | null = null
  for (const row of rows) {
    rt.db.prepare("update app_auth_grants set status = 'cancelled' where token = ?").run(row.token)
    const isv = findApp(rt, row.isv_app_id)
    if (isv?.gatewayUrl === undefined) {
      continue
    }
    notificationId = rt.notifier.send(NotifyKind.AppAuthCancelled, row.isv_app_id, isv.gatewayUrl, {
      msg_method: 'alipay.open.auth.appauth.cancelled',
      app_id: row.isv_app_id,
      utc_timestamp: String(Date.now()),
      version: '1.1',
      biz_content: JSON.stringify({
        notify_context: { trigger: 'user', trigger_context: { type: 'MERCHANT_CANCEL' } },
        detail: {
          auth_app_id: row.merchant_app_id,
          app_id: row.isv_app_id,
          user_id: row.user_id,
          auth_time: alipayTime(),
          app_auth_token: row.token,
        },
      }),
    })
  }
  return { cancelled: rows.length, notificationId }
}

function htmlReply(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body)
}

function errorPage(reply: FastifyReply, message: string, status: number): FastifyReply {
  return htmlReply(
    reply,
    page('第三方应用授权', `<div class="panel error">${esc(message)}</div>`),
    status,
  )
}

/** The ISV app and redirect of an authorisation link, or why the page refuses it. */
function checkLink(
  rt: Runtime,
  q: Record<string, string | undefined>,
): { isv: AppRecord; target: URL } | { error: string; status: number } {
  const isv = findApp(rt, q.app_id ?? '')
  if (isv === undefined) {
    return { error: `应用不存在:${q.app_id ?? ''}`, status: 404 }
  }
  let target: URL
  try {
    target = new URL(q.redirect_uri ?? '')
  } catch {
    return { error: 'redirect_uri 不合法', status: 400 }
  }
  // redirect_uri must be under the ISV app's 授权回调地址 (same origin, as the web-auth page).
  const allowed = isv.callbackUrls.some((u) => {
    try {
      return new URL(u).origin === target.origin
    } catch {
      return false
    }
  })
  if (!allowed) {
    return { error: '授权回调地址与应用配置不一致 (redirect_uri 不匹配)', status: 403 }
  }
  return { isv, target }
}

/** The authorisation pages (GET shows, POST confirms) and the driver's cancellation. */
export function registerAppAuth(app: FastifyInstance, rt: Runtime): void {
  const show = async (
    request: { query: unknown; url: string },
    reply: FastifyReply,
  ): Promise<FastifyReply> => {
    const q = request.query as Record<string, string | undefined>
    const link = checkLink(rt, q)
    if ('error' in link) {
      return errorPage(reply, link.error, link.status)
    }
    const hidden = (name: string, value: string | undefined) =>
      value === undefined ? '' : `<input type="hidden" name="${name}" value="${esc(value)}">`
    const body = `<div class="panel"><p>服务商应用 <b>${esc(link.isv.appId)}</b> 申请代商户调用以下接口：</p>
<ul class="plain muted"><li>会员卡模板、开卡、更新、删除 (alipay.marketing.card.*)</li><li>图片上传 (alipay.offline.material.image.upload)</li><li>用户授权 (alipay.system.oauth.token)</li></ul></div>
<form class="panel" method="post" action="/oauth2/appToAppAuth/confirm">
${hidden('app_id', q.app_id)}${hidden('redirect_uri', q.redirect_uri)}${hidden('state', q.state)}
<label for="merchant_app_id">授权的商户应用 APPID（留空：新建）</label><input id="merchant_app_id" name="merchant_app_id" value="">
<label for="merchant_user_id">商户支付宝账号 user_id（留空：新建）</label><input id="merchant_user_id" name="merchant_user_id" value="">
<div class="agree"><input type="checkbox" id="agree" name="agree" value="1" checked><label for="agree">我已阅读并同意《第三方应用授权协议》</label></div>
<button class="btn" type="submit">确认授权</button></form>`
    return htmlReply(reply, page('第三方应用授权', body))
  }
  app.get('/oauth2/appToAppAuth.htm', show)
  app.get('/oauth2/appToAppBatchAuth.htm', show)

  app.post('/oauth2/appToAppAuth/confirm', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string | undefined>
    const link = checkLink(rt, form)
    if ('error' in link) {
      return errorPage(reply, link.error, link.status)
    }
    if (form.agree !== '1') {
      return errorPage(reply, '请先同意授权协议', 400)
    }
    const { isv, target } = link
    let merchantAppId = form.merchant_app_id?.trim() || undefined
    if (merchantAppId === undefined || findApp(rt, merchantAppId) === undefined) {
      // A merchant without an app of its own: its "app" is what the ISV acts for. It inherits the
      // ISV's callback addresses and products (claim links made for it call back to the ISV's system).
      merchantAppId ??= `2021${digits(12)}`
      const record: AppRecord = {
        appId: merchantAppId,
        appPublicKey: isv.appPublicKey,
        callbackUrls: isv.callbackUrls,
        products: isv.products,
      }
      rt.db
        .prepare('insert into apps (app_id, data) values (?, ?)')
        .run(merchantAppId, JSON.stringify(record))
    }
    const userId = form.merchant_user_id?.trim() || newUserId()
    const code = hexToken(16)
    rt.db
      .prepare(
        'insert into app_auth_codes (code, isv_app_id, merchant_app_id, user_id, expires_at) values (?, ?, ?, ?, ?)',
      )
      .run(
        code,
        isv.appId,
        merchantAppId,
        userId,
        Date.now() + rt.behaviour.appAuthCodeTtlSeconds * 1000,
      )
    target.searchParams.set('app_id', isv.appId)
    target.searchParams.set('source', 'alipay_app_auth')
    target.searchParams.set('app_auth_code', code)
    if (form.state !== undefined && form.state !== '') {
      target.searchParams.set('state', form.state)
    }
    return reply.redirect(target.toString(), 302)
  })

  app.post('/__emulator/app-auths/cancel', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const s = (k: string) =>
      typeof body[k] === 'string' && body[k] !== '' ? (body[k] as string) : undefined
    const appAuthToken = s('appAuthToken')
    const merchantAppId = s('merchantAppId')
    if (appAuthToken === undefined && merchantAppId === undefined) {
      return reply
        .code(400)
        .send({ error: 'INVALID_INPUT', message: 'appAuthToken or merchantAppId is required' })
    }
    return cancelGrants(rt, {
      ...(appAuthToken !== undefined ? { appAuthToken } : {}),
      ...(merchantAppId !== undefined ? { merchantAppId } : {}),
      ...(s('isvAppId') !== undefined ? { isvAppId: s('isvAppId') as string } : {}),
    })
  })

  app.get('/__emulator/app-auths', async () => ({
    grants: (
      rt.db.prepare('select * from app_auth_grants order by auth_start').all() as GrantRow[]
    ).map((g) => ({
      isvAppId: g.isv_app_id,
      merchantAppId: g.merchant_app_id,
      userId: g.user_id,
      status: g.status,
      expiresAt: new Date(g.expires_at).toISOString(),
    })),
  }))
}
