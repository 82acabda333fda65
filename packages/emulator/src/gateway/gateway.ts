import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { appAuthMethods, grantedApp } from '../app-auth.js'
import { findApp } from '../cards.js'
import iconv from 'iconv-lite'
import { pki } from '../certs.js'
import { isCharset, isSignType, parsePublicKey, requestSignContent, verifyText } from '../crypto.js'
import type { SignType } from '../crypto.js'
import { FaultKind } from '../faults.js'
import { hexToken, parseAlipayTime } from '../ids.js'
import { cardMethods } from '../methods/card-methods.js'
import { certMethods } from '../methods/cert-methods.js'
import { koubeiMethods } from '../methods/koubei-methods.js'
import type { AppRecord, Runtime } from '../runtime.js'
import type { CallContext, MethodDef } from './context.js'
import { GatewayCode, GatewayError, gatewayMsg } from './errors.js'
import { responseKey, signResponse } from './envelope.js'
import { readGatewayRequest } from './request.js'

/** Every method the gateway implements. */
export const methods: Record<string, MethodDef> = {
  ...cardMethods,
  ...koubeiMethods,
  ...certMethods,
  ...appAuthMethods,
}

const productNames: Record<string, string> = {
  member_card: '商家会员卡/支付宝卡包',
  koubei: '口碑营销',
}

interface Outcome {
  key: string
  payload: Record<string, unknown>
}

/** Checks the protocol envelope (§1.10 steps 2-4); answers the app and sign type or throws. */
function authenticate(
  rt: Runtime,
  params: Record<string, string>,
): { app: AppRecord; method: string } {
  const missing = (name: string, sub: string): never => {
    throw new GatewayError(GatewayCode.Missing, sub, `缺少必选参数:${name}`)
  }
  const method = params.method
  if (method === undefined || method === '') {
    missing('method', 'isv.missing-method')
  }
  const appId = params.app_id
  if (appId === undefined || appId === '') {
    missing('app_id', 'isv.missing-app-id')
  }
  if (params.sign === undefined || params.sign === '') {
    missing('sign', 'isv.missing-signature')
  }
  const signType = params.sign_type
  if (signType === undefined || signType === '') {
    missing('sign_type', 'isv.missing-signature-type')
  }
  if (params.timestamp === undefined || params.timestamp === '') {
    missing('timestamp', 'isv.missing-timestamp')
  }
  if (params.version === undefined || params.version === '') {
    missing('version', 'isv.missing-version')
  }
  if (params.charset === undefined || params.charset === '') {
    throw new GatewayError(
      GatewayCode.Missing,
      'isv.missing-charset',
      '缺少必选参数:charset,请确认charset参数放在了URL查询字符串中',
    )
  }
  const app = findApp(rt, appId as string)
  if (app === undefined) {
    throw new GatewayError(GatewayCode.Invalid, 'isv.invalid-app-id', `无效的AppID参数:${appId}`)
  }
  if (!((method as string) in methods)) {
    throw new GatewayError(GatewayCode.Invalid, 'isv.invalid-method', `不存在的方法名:${method}`)
  }
  if (params.format !== undefined && params.format.toUpperCase() !== 'JSON') {
    throw new GatewayError(
      GatewayCode.Invalid,
      'isv.invalid-format',
      `无效的数据格式:${params.format}`,
    )
  }
  if (!isCharset(params.charset)) {
    throw new GatewayError(
      GatewayCode.Invalid,
      'isv.invalid-charset',
      `无效的字符集:${params.charset}(支持 utf-8、GBK)`,
    )
  }
  if (app.certMode !== undefined) {
    // Cert-mode app (公钥证书): both SNs are required and must be the ones the console issued.
    const appCertSn = params.app_cert_sn
    if (appCertSn === undefined || appCertSn === '') {
      missing('app_cert_sn', 'isv.missing-app-cert-sn')
    }
    if (appCertSn !== app.certMode.appCertSn) {
      throw new GatewayError(
        GatewayCode.Invalid,
        'isv.invalid-app-cert-sn',
        `应用公钥证书序列号不匹配:${appCertSn}`,
      )
    }
    const rootSn = params.alipay_root_cert_sn
    if (rootSn === undefined || rootSn === '') {
      missing('alipay_root_cert_sn', 'isv.missing-alipay-root-cert-sn')
    }
    if (!(rootSn as string).split('_').includes(pki(rt).rootSn)) {
      throw new GatewayError(
        GatewayCode.Invalid,
        'isv.invalid-alipay-root-cert-sn',
        `支付宝根证书序列号不匹配:${rootSn}`,
      )
    }
  }
  if (!isSignType(signType as string)) {
    throw new GatewayError(
      GatewayCode.Invalid,
      'isv.invalid-signature-type',
      `无效的签名类型:${signType}`,
    )
  }
  const algorithm = signType as SignType
  const time = parseAlipayTime(params.timestamp as string)
  if (time === undefined) {
    throw new GatewayError(GatewayCode.Invalid, 'isv.invalid-timestamp', '非法的时间戳参数')
  }
  const drift = rt.behaviour.timestampDriftSeconds
  if (drift !== null) {
    // The Node SDK stamps local time, Java GMT+8: accept either reading of the clock.
    const local = new Date((params.timestamp as string).replace(' ', 'T')).getTime()
    const ok = [time, local].some((t) => Math.abs(Date.now() - t) <= drift * 1000)
    if (!ok) {
      throw new GatewayError(
        GatewayCode.Invalid,
        'isv.invalid-timestamp',
        '非法的时间戳参数:与网关时间相差过大',
      )
    }
  }
  let key
  try {
    key = parsePublicKey(app.appPublicKey)
  } catch {
    throw new GatewayError(
      GatewayCode.Invalid,
      'isv.missing-signature-config',
      '应用未配置有效的应用公钥',
    )
  }
  // Java/PHP drop empty values; the Node SDK signs them (§1.4): try both.
  const strict = requestSignContent(params)
  const lenient = requestSignContent(params, { keepEmpty: true })
  const charset = params.charset
  const ok =
    verifyText(strict, params.sign as string, key, algorithm, charset) ||
    (lenient !== strict && verifyText(lenient, params.sign as string, key, algorithm, charset))
  if (!ok) {
    throw new GatewayError(
      GatewayCode.Invalid,
      'isv.invalid-signature',
      `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${strict.replaceAll('&', '&amp;')}`,
    )
  }
  return { app, method: method as string }
}

/** Resolves `app_auth_token` (ISV acting for a merchant) to the merchant's app, or 20001. */
function actingApp(rt: Runtime, caller: AppRecord, token: string | undefined): AppRecord {
  if (token === undefined || token === '') {
    return caller
  }
  // A grant made through the authorisation page (app-auth.ts): checked for expiry and withdrawal.
  const granted = grantedApp(rt, caller, token)
  if (granted !== undefined) {
    if (granted === null) {
      throw new GatewayError(
        GatewayCode.TokenPermission,
        'aop.invalid-app-auth-token',
        '无效的应用授权令牌',
      )
    }
    return granted
  }
  const row = rt.db
    .prepare('select isv_app_id, merchant_app_id from app_auth_tokens where token = ?')
    .get(token) as { isv_app_id: string; merchant_app_id: string } | undefined
  const merchant = row === undefined ? undefined : findApp(rt, row.merchant_app_id)
  if (row === undefined || row.isv_app_id !== caller.appId || merchant === undefined) {
    throw new GatewayError(
      GatewayCode.TokenPermission,
      'aop.invalid-app-auth-token',
      '无效的应用授权令牌',
    )
  }
  return merchant
}

function parseBiz(params: Record<string, string>): Record<string, unknown> {
  const text = params.biz_content
  if (text === undefined || text === '') {
    return {}
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new GatewayError(
      GatewayCode.Invalid,
      'isv.invalid-parameter',
      'biz_content 不是合法的JSON',
    )
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayError(
      GatewayCode.Invalid,
      'isv.invalid-parameter',
      'biz_content 必须是JSON对象',
    )
  }
  return parsed as Record<string, unknown>
}

function errorPayload(err: GatewayError): Record<string, unknown> {
  return { code: err.code, msg: gatewayMsg[err.code], sub_code: err.subCode, sub_msg: err.subMsg }
}

/** Registers `/gateway.do` (GET and POST). */
export function registerGateway(app: FastifyInstance, rt: Runtime): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const { params, files } = readGatewayRequest(request)
    const method = params.method ?? ''
    // Errors go under `<method>_response` (signed, what the SDK verifies); error_response only without a usable method.
    const methodOk = /^[a-z0-9_.]+$/i.test(method)
    let outcome: Outcome
    let callerAppId: string | null = params.app_id ?? null
    let biz: Record<string, unknown> | null = null
    let corrupt = false
    try {
      const { app: caller, method: m } = authenticate(rt, params)
      callerAppId = caller.appId
      const latency = rt.faults.take(FaultKind.Latency, m)
      if (latency !== undefined) {
        await sleep(latency.latencyMs ?? 1000)
      }
      const http = rt.faults.take(FaultKind.Http5xx, m)
      if (http !== undefined) {
        logCall(
          rt,
          m,
          callerAppId,
          params,
          String(http.status),
          'fault.http5xx',
          `HTTP ${http.status}`,
        )
        return await reply
          .code(http.status ?? 502)
          .type('text/html')
          .send('<html><body>Bad Gateway</body></html>')
      }
      corrupt = rt.faults.take(FaultKind.BadSignature, m) !== undefined
      if (rt.faults.take(FaultKind.Code20000, m) !== undefined) {
        throw new GatewayError(GatewayCode.Unavailable, 'isp.unknow-error', '服务暂不可用')
      }
      const app = actingApp(rt, caller, params.app_auth_token)
      const def = methods[m] as MethodDef
      if (def.product !== null && !app.products.includes(def.product)) {
        // The seed FAQ's 领卡失败: "系统服务商(ISV)权限不足…账号没有卡包权限".
        throw new GatewayError(
          GatewayCode.Permission,
          'isv.insufficient-isv-permissions',
          `ISV权限不足，建议在开发者中心检查对应功能是否已经添加(缺少产品:${productNames[def.product] ?? def.product})`,
        )
      }
      biz = parseBiz(params)
      const ctx: CallContext = { rt, app, callerAppId: caller.appId, params, biz, files }
      // One SQLite transaction per call: a failing method leaves no half-written state.
      const fields = rt.db.transaction(() => def.run(ctx))()
      outcome = {
        key: responseKey(m),
        payload: { code: GatewayCode.Success, msg: gatewayMsg[GatewayCode.Success], ...fields },
      }
    } catch (err) {
      if (!(err instanceof GatewayError)) {
        throw err
      }
      const useErrorNode =
        !methodOk ||
        (method === 'alipay.system.oauth.token' && rt.behaviour.oauthErrorNode === 'error_response')
      outcome = {
        key: useErrorNode ? 'error_response' : responseKey(method),
        payload: errorPayload(err),
      }
    }
    // The SDK verifies with its configured sign_type, the one it signed the request with.
    // Cert-mode apps get answers signed with the current Alipay certificate's key and its SN.
    const caller = params.app_id ? findApp(rt, params.app_id) : undefined
    const cert = caller?.certMode !== undefined ? pki(rt).current : undefined
    const charset =
      params.charset !== undefined && isCharset(params.charset) ? params.charset : 'utf-8'
    const signed = signResponse(outcome.key, outcome.payload, cert?.key ?? rt.alipayKey, {
      escapeSlashes: rt.behaviour.escapeSlashes,
      signType: params.sign_type === 'RSA' ? 'RSA' : 'RSA2',
      corrupt,
      charset,
      ...(cert ? { alipayCertSn: cert.sn } : {}),
    })
    logCall(
      rt,
      method || null,
      callerAppId,
      params,
      String(outcome.payload.code),
      (outcome.payload.sub_code as string | undefined) ?? null,
      signed.body,
      biz,
    )
    if (charset.toLowerCase() !== 'utf-8') {
      // Alipay answers a GBK app in GBK.
      return reply
        .header('trace_id', hexToken(16))
        .type(`application/json;charset=${charset}`)
        .send(iconv.encode(signed.body, charset))
    }
    return reply
      .header('trace_id', hexToken(16))
      .type('application/json;charset=utf-8')
      .send(signed.body)
  }
  app.get('/gateway.do', handler)
  app.post('/gateway.do', handler)
}

const protocolKeys = new Set(['sign', 'biz_content'])

function logCall(
  rt: Runtime,
  method: string | null,
  appId: string | null,
  params: Record<string, string>,
  code: string,
  subCode: string | null,
  response: string,
  biz: Record<string, unknown> | null = null,
): void {
  const rest: Record<string, string> = {}
  for (const [k, v] of Object.entries(params)) {
    if (!protocolKeys.has(k)) {
      rest[k] = v
    }
  }
  rt.db
    .prepare(
      'insert into calls (time, method, app_id, biz_content, params, code, sub_code, response) values (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      new Date().toISOString(),
      method,
      appId,
      biz === null ? (params.biz_content ?? null) : JSON.stringify(biz),
      JSON.stringify(rest),
      code,
      subCode,
      response,
    )
}
