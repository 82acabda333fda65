import { randomUUID } from 'node:crypto'
import { AlipayFormData, AlipayRequestError } from 'alipay-sdk'
import { AlipayError, AlipayErrorCode, GatewayCode } from './errors.js'
import {
  type AlipayCertificates,
  certPublicKeyPem,
  chainsToRoot,
  describeCertificates,
  parseCertificate,
} from './certs.js'
import { normalizePrivateKey, normalizePublicKey, publicKeyOf } from './keys.js'
import { extractSignedNode } from './response-sign.js'
import {
  ALIPAY_CERT_DOWNLOAD_METHOD,
  type AlipayCertKeyring,
  ResponseSignatureMismatch,
  trustDownloadedCert,
  UnknownAlipayCert,
  UntrustedAlipayCert,
  VerifyingAlipaySdk,
} from './sdk.js'
import type {
  ActivateFormQuery,
  ActivateFormQueryResult,
  ActivateUrlApply,
  ActivateUrlApplyResult,
  AuthInfoQuery,
  AuthInfoQueryResult,
  AppAuthGrant,
  AppAuthTokenQueryResult,
  AppAuthTokenResult,
  CampaignActivityCreate,
  CampaignActivityCreateResult,
  CampaignActivityQuery,
  CampaignActivityQueryResult,
  CardDelete,
  CardDeleteResult,
  CardMessageNotify,
  CardMessageNotifyResult,
  CardOpen,
  CardOpenResult,
  CardQuery,
  CardQueryResult,
  CardTemplateCreate,
  CardTemplateModify,
  CardTemplateQueryResult,
  CardUpdate,
  CardUpdateResult,
  FormTemplateSet,
  ImageUpload,
  ImageUploadResult,
  OauthTokenResult,
  PrizeSendAuth,
  PrizeSendAuthResult,
  ToolPointsQuery,
  ToolPointsQueryResult,
  ToolPointsUpdate,
  ToolPointsUpdateResult,
} from './types.js'

/** Alipay's production OpenAPI gateway. */
export const ALIPAY_GATEWAY_PRODUCTION = 'https://openapi.alipay.com/gateway.do'
/** Alipay's sandbox gateway (the `openapi.alipaydev.com` one is retired). */
export const ALIPAY_GATEWAY_SANDBOX = 'https://openapi-sandbox.dl.alipaydev.com/gateway.do'

/** Default per-call timeout; the SDK's own default. */
export const DEFAULT_TIMEOUT_MS = 5_000

/** One merchant app as the gateway knows it. */
export interface AlipayAppConfig {
  /** 应用 APPID. */
  appId: string
  /** 应用私钥: PKCS#8 or PKCS#1, PEM or bare base64. */
  privateKey: string
  /**
   * 支付宝公钥 (not the app public key): SPKI or PKCS#1, PEM or bare base64. Key mode only; in
   * certificate mode the key is the one of `certificates.alipayPublicCert`.
   */
  alipayPublicKey?: string | undefined
  /** Certificate mode (公钥证书): the three certificates instead of `alipayPublicKey`. */
  certificates?: AlipayCertificates | undefined
  /**
   * Cert mode: told when a response was signed with a newer Alipay certificate, after it was
   * downloaded (`alipay.open.app.alipaycert.download`) and checked to chain to the root. Store it;
   * the client already verifies with it. A failure here is reported but does not fail the call.
   */
  onAlipayCertRotated?: ((rotated: { sn: string; alipayPublicCert: string }) => unknown) | undefined
  /** The app's charset: `utf-8` (default) or `GBK` (requests signed and sent in GBK). */
  charset?: 'utf-8' | 'GBK' | undefined
  /** `RSA2` (default). `RSA` (SHA1) is refused with `ALIPAY_SIGN_TYPE_UNSUPPORTED`. */
  signType?: 'RSA2' | 'RSA' | undefined
  /** Gateway URL: {@link ALIPAY_GATEWAY_PRODUCTION}, {@link ALIPAY_GATEWAY_SANDBOX} or any other (the emulator). */
  gateway: string
  /** Per-call timeout in ms (default {@link DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number
  /**
   * Told after every gateway call, success or failure (metrics). Must not throw; it is not given
   * parameters or answers, so nothing secret or personal reaches it.
   */
  observe?: (call: AlipayCallObservation) => void
}

/** One finished gateway call: which method, how it ended, how long it took. */
export interface AlipayCallObservation {
  method: string
  /** `success`, or the {@link AlipayError} code (`40004`, `TIMEOUT`, `HTTP_ERROR`, …). */
  result: string
  ms: number
}

/** Per-call options. Empty strings are treated as absent (the SDK would sign `app_auth_token=`). */
export interface CallOptions {
  /** ISV mode: the merchant's `app_auth_token` (第三方应用授权). */
  appAuthToken?: string | undefined
  /** The user's `auth_token` (= `access_token` from `alipay.system.oauth.token`). */
  authToken?: string | undefined
  /** `notify_url` for calls that take one (template create/modify, activity create). */
  notifyUrl?: string | undefined
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number | undefined
  /** Our request id, sent as `alipay-request-id`; reported as the trace id when Alipay sends none. */
  requestId?: string | undefined
}

/** Per-call options of the calls that need the user's token. */
export type UserCallOptions = CallOptions & { authToken: string }

/**
 * The typed Alipay OpenAPI (v2 gateway) client of one merchant app. Every method resolves with the
 * response node (snake_case, without `code`/`msg`) when `code` is `10000` and rejects with
 * {@link AlipayError} otherwise. Response signatures are always verified.
 */
export interface AlipayClient {
  readonly appId: string
  readonly gateway: string
  /** Cert mode: the SN of the newest Alipay certificate the client verifies with; else undefined. */
  readonly alipayCertSn: string | undefined
  /** `alipay.offline.material.image.upload` (图片上传): logo, background, stamp-card images. */
  uploadImage(input: ImageUpload, opts?: CallOptions): Promise<ImageUploadResult>
  /** `alipay.marketing.card.template.create` (会员卡模板创建). Pass `notifyUrl` for open/delete notifications. */
  createCardTemplate(biz: CardTemplateCreate, opts?: CallOptions): Promise<{ template_id: string }>
  /** `alipay.marketing.card.template.modify` (会员卡模板修改): updates every issued card. */
  modifyCardTemplate(biz: CardTemplateModify, opts?: CallOptions): Promise<{ template_id?: string }>
  /** `alipay.marketing.card.template.query` (会员卡模板查询). */
  queryCardTemplate(
    biz: { template_id: string },
    opts?: CallOptions,
  ): Promise<CardTemplateQueryResult>
  /** `alipay.marketing.card.formtemplate.set` (会员卡开卡表单模板配置). Call once per template. */
  setFormTemplate(biz: FormTemplateSet, opts?: CallOptions): Promise<Record<string, never>>
  /** `alipay.marketing.card.activateurl.apply` (获取会员卡领卡投放链接). */
  applyActivateUrl(biz: ActivateUrlApply, opts?: CallOptions): Promise<ActivateUrlApplyResult>
  /** `alipay.system.oauth.token` with `grant_type=authorization_code` (换取授权访问令牌). */
  exchangeAuthCode(code: string, opts?: CallOptions): Promise<OauthTokenResult>
  /** `alipay.system.oauth.token` with `grant_type=refresh_token`. */
  refreshAuthToken(refreshToken: string, opts?: CallOptions): Promise<OauthTokenResult>
  /** `alipay.open.auth.token.app` with `grant_type=authorization_code`: the ISV's app redeems a merchant's `app_auth_code`. */
  exchangeAppAuthCode(code: string, opts?: CallOptions): Promise<AppAuthTokenResult>
  /** `alipay.open.auth.token.app` with `grant_type=refresh_token`: a new `app_auth_token` before the old expires. */
  refreshAppAuthToken(refreshToken: string, opts?: CallOptions): Promise<AppAuthTokenResult>
  /** `alipay.open.auth.token.app.query` (查询某个应用授权AppAuthToken的授权信息). */
  queryAppAuthToken(appAuthToken: string, opts?: CallOptions): Promise<AppAuthTokenQueryResult>
  /** `alipay.marketing.card.activateform.query` (查询用户提交的会员卡表单信息); needs `authToken`. */
  queryActivateForm(biz: ActivateFormQuery, opts: UserCallOptions): Promise<ActivateFormQueryResult>
  /**
   * `alipay.marketing.card.authinfo.query` (会员卡授权信息查询, 2024): the user's details they agreed
   * to share (name, mobile, …) from the user's `authToken`; used to prefill the open-card form.
   */
  queryAuthInfo(biz: AuthInfoQuery, opts: UserCallOptions): Promise<AuthInfoQueryResult>
  /** `alipay.marketing.card.open` (会员卡开卡); needs `authToken`. */
  openCard(biz: CardOpen, opts: UserCallOptions): Promise<CardOpenResult>
  /** `alipay.marketing.card.query` (会员卡查询). */
  queryCard(biz: CardQuery, opts?: CallOptions): Promise<CardQueryResult>
  /** `alipay.marketing.card.update` (会员卡更新): points, level, balance, template, dynamic code. */
  updateCard(biz: CardUpdate, opts?: CallOptions): Promise<CardUpdateResult>
  /** `alipay.marketing.card.delete` (会员卡删卡). */
  deleteCard(biz: CardDelete, opts?: CallOptions): Promise<CardDeleteResult>
  /** `alipay.marketing.card.message.notify` (会员积分过期提醒): `POINT_REMIND` before points expire. */
  notifyCardMessage(biz: CardMessageNotify, opts?: CallOptions): Promise<CardMessageNotifyResult>
  /** `koubei.marketing.campaign.activity.create` (创建营销活动). */
  createCampaignActivity(
    biz: CampaignActivityCreate,
    opts?: CallOptions,
  ): Promise<CampaignActivityCreateResult>
  /** `koubei.marketing.campaign.activity.query` (活动详情查询). */
  queryCampaignActivity(
    biz: CampaignActivityQuery,
    opts?: CallOptions,
  ): Promise<CampaignActivityQueryResult>
  /** `koubei.marketing.tool.points.update` (更新卡集点). */
  updateToolPoints(biz: ToolPointsUpdate, opts?: CallOptions): Promise<ToolPointsUpdateResult>
  /** `koubei.marketing.tool.points.query` (集点查询). */
  queryToolPoints(biz: ToolPointsQuery, opts?: CallOptions): Promise<ToolPointsQueryResult>
  /** `koubei.marketing.tool.prizesend.auth` (发券授权). */
  authPrizeSend(biz: PrizeSendAuth, opts?: CallOptions): Promise<PrizeSendAuthResult>
  /**
   * Any other v2 method, for what this client does not type yet. `biz` becomes `biz_content`
   * (snake_case keys, sent as-is); `topLevel` params are sent beside it.
   */
  call<T = Record<string, unknown>>(
    method: string,
    biz: object | undefined,
    opts?: CallOptions,
    topLevel?: Record<string, string>,
  ): Promise<T>
}

type GatewayResult = Record<string, unknown> & {
  code?: unknown
  msg?: unknown
  sub_code?: unknown
  sub_msg?: unknown
  traceId?: unknown
}

/**
 * Creates the client of one merchant app. Keys are parsed once here (bad keys throw
 * `ALIPAY_KEY_INVALID` now, not on the first call); calls keep no state, so one client per app
 * can serve concurrent requests.
 * @throws AlipayError `ALIPAY_KEY_INVALID` or `ALIPAY_CONFIG_INVALID`
 */
export function createAlipayClient(config: AlipayAppConfig): AlipayClient {
  for (const field of ['appId', 'privateKey', 'gateway'] as const) {
    if (!config[field]) {
      throw configError(`${field} is required`)
    }
  }
  if (!config.alipayPublicKey && !config.certificates) {
    throw configError('alipayPublicKey (key mode) or certificates (cert mode) is required')
  }
  if (config.signType === 'RSA') {
    throw new AlipayError({
      code: AlipayErrorCode.SignTypeUnsupported,
      msg: 'signType: RSA (SHA1withRSA) is not supported; switch the app to RSA2 (SHA256withRSA) in the open platform (接口加签方式) and set new keys',
      retryable: false,
    })
  }
  const charset = config.charset ?? 'utf-8'
  if (charset !== 'utf-8' && charset !== 'GBK') {
    throw configError(`charset must be utf-8 or GBK, not ${String(charset)}`)
  }
  try {
    new URL(config.gateway)
  } catch (err) {
    throw configError(`gateway is not an absolute URL: ${config.gateway}`, err)
  }
  const privateKey = normalizePrivateKey(config.privateKey)
  let keyring: AlipayCertKeyring | undefined
  let alipayPublicKey: string
  if (config.certificates) {
    const certs = config.certificates
    const info = describeCertificates(certs)
    const alipayCert = parseCertificate(certs.alipayPublicCert, 'alipayPublicCert')
    // Checked at the certificate's own start so that an expired certificate still builds a client
    // (whose calls then fail visibly) rather than hiding the merchant's whole configuration.
    if (
      !chainsToRoot(certs.alipayPublicCert, certs.alipayRootCert, new Date(alipayCert.validFrom))
    ) {
      throw new AlipayError({
        code: AlipayErrorCode.CertInvalid,
        msg: 'alipayPublicCert: is not issued under alipayRootCert',
        retryable: false,
      })
    }
    alipayPublicKey = certPublicKeyPem(alipayCert)
    keyring = {
      rootCert: certs.alipayRootCert,
      keys: new Map([[info.alipayCert.sn, alipayPublicKey]]),
      currentSn: info.alipayCert.sn,
    }
  } else {
    alipayPublicKey = normalizePublicKey(config.alipayPublicKey as string)
  }
  // The most common cause of "signature always wrong" is the app public key pasted where the
  // Alipay public key belongs (reference §5 #3); Java's checkAlipayPublicKey refuses it too.
  if (publicKeyOf(privateKey) === alipayPublicKey) {
    throw configError('alipayPublicKey is the app public key; use the 支付宝公钥 from the console')
  }
  const defaultTimeout = config.timeoutMs ?? DEFAULT_TIMEOUT_MS

  // The SDK reads its timeout from its config only; one SDK instance per timeout value used
  // (normally one or two) keeps calls stateless without touching a shared config mid-flight.
  let currentAlipayCert = config.certificates?.alipayPublicCert ?? ''
  const sdks = new Map<number, VerifyingAlipaySdk>()
  /** Downloads under way, by SN: concurrent calls that meet a rotated certificate fetch it once. */
  const learning = new Map<string, Promise<void>>()

  /**
   * A response named an Alipay certificate we do not know: fetch it, check it chains to the root,
   * trust it, tell the owner to store it. The call is not sent again (it may have been applied).
   */
  function learnAlipayCert(sn: string, requestId: string): Promise<void> {
    let pending = learning.get(sn)
    if (!pending) {
      pending = (async () => {
        const ring = keyring as AlipayCertKeyring
        const body = await execOnce(
          ALIPAY_CERT_DOWNLOAD_METHOD,
          { biz_content: { alipay_cert_sn: sn } },
          { requestId: `${requestId}c` },
        )
        const content = typeof body.alipay_cert_content === 'string' ? body.alipay_cert_content : ''
        const trusted = trustDownloadedCert(content, sn, ring.rootCert)
        ring.keys.set(sn, trusted.publicKey)
        ring.currentSn = sn
        currentAlipayCert = trusted.pem
        // SDK instances carry the SNs they send; new ones pick up the new certificate.
        sdks.clear()
        if (config.onAlipayCertRotated) {
          try {
            await config.onAlipayCertRotated({ sn, alipayPublicCert: trusted.pem })
          } catch {
            // Storing failed: the client still trusts it; the next response will tell again.
          }
        }
      })().finally(() => learning.delete(sn))
      learning.set(sn, pending)
    }
    return pending
  }

  const sdkFor = (timeout: number): VerifyingAlipaySdk => {
    let sdk = sdks.get(timeout)
    if (!sdk) {
      sdk = new VerifyingAlipaySdk({
        appId: config.appId,
        privateKey,
        keyType: 'PKCS8',
        alipayPublicKey,
        gateway: config.gateway,
        timeout,
        signType: 'RSA2',
        // Keep Alipay's snake_case: this package is the only one that speaks it.
        camelcase: false,
        wireCharset: charset,
        keyring,
        ...(config.certificates
          ? {
              appCertContent: config.certificates.appCert,
              alipayPublicCertContent: currentAlipayCert,
              alipayRootCertContent: config.certificates.alipayRootCert,
            }
          : {}),
      })
      sdks.set(timeout, sdk)
    }
    return sdk
  }

  async function exec(
    method: string,
    params: Record<string, unknown>,
    opts: CallOptions,
    formData?: AlipayFormData,
  ): Promise<Record<string, unknown>> {
    const started = performance.now()
    try {
      const body = await execOnce(method, params, opts, formData)
      report(method, 'success', started)
      return body
    } catch (err) {
      report(method, err instanceof AlipayError ? err.code : 'ERROR', started)
      throw err
    }
  }

  function report(method: string, result: string, started: number): void {
    if (!config.observe) {
      return
    }
    try {
      config.observe({ method, result, ms: performance.now() - started })
    } catch {
      // An observer's bug must not turn a good call into a failed one.
    }
  }

  async function execOnce(
    method: string,
    params: Record<string, unknown>,
    opts: CallOptions,
    formData?: AlipayFormData,
  ): Promise<Record<string, unknown>> {
    const requestId = opts.requestId ?? randomUUID().replaceAll('-', '')
    const protocol = protocolParams(opts)
    let result: GatewayResult
    const sdk = sdkFor(opts.timeoutMs ?? defaultTimeout)
    try {
      if (formData) {
        for (const [key, value] of Object.entries(protocol)) {
          formData.addField(key, value)
        }
        result = await sdk.exec(method, {}, { formData, validateSign: true, traceId: requestId })
      } else {
        result = await sdk.exec(
          method,
          { ...params, ...protocol },
          { validateSign: true, traceId: requestId },
        )
      }
    } catch (err) {
      if (!(err instanceof UnknownAlipayCert) || method === ALIPAY_CERT_DOWNLOAD_METHOD) {
        throw translateFailure(err, method, requestId)
      }
      // The Alipay certificate was rotated: learn the new one, then verify this very answer with it.
      try {
        await learnAlipayCert(err.sn, requestId)
        result = verifiedAnswer(sdk, method, err.raw, err.traceId)
      } catch (inner) {
        throw translateFailure(inner, method, requestId)
      }
    }
    const { code, msg, sub_code: subCode, sub_msg: subMsg, traceId, ...body } = result
    if (code !== GatewayCode.Success) {
      throw new AlipayError({
        code: str(code) ?? AlipayErrorCode.BadResponse,
        msg: str(msg),
        subCode: str(subCode),
        subMsg: str(subMsg),
        traceId: str(traceId) ?? requestId,
        method,
        httpStatus: 200,
        raw: JSON.stringify(result),
      })
    }
    return body
  }

  const biz = <T>(method: string, content: object, opts: CallOptions = {}) =>
    exec(method, { biz_content: content }, opts) as Promise<T>

  return {
    appId: config.appId,
    gateway: config.gateway,
    get alipayCertSn() {
      return keyring?.currentSn
    },
    uploadImage: async (input, opts = {}) => {
      const form = new AlipayFormData()
      form.addField('image_type', input.image_type)
      form.addField('image_name', input.image_name)
      form.addFile(
        'image_content',
        input.file_name ?? `${input.image_name}.${input.image_type}`,
        input.content,
      )
      return (await exec(
        'alipay.offline.material.image.upload',
        {},
        opts,
        form,
      )) as unknown as ImageUploadResult
    },
    createCardTemplate: (content, opts) =>
      biz('alipay.marketing.card.template.create', content, opts),
    modifyCardTemplate: (content, opts) =>
      biz('alipay.marketing.card.template.modify', content, opts),
    queryCardTemplate: (content, opts) =>
      biz('alipay.marketing.card.template.query', content, opts),
    setFormTemplate: (content, opts) =>
      biz(
        'alipay.marketing.card.formtemplate.set',
        {
          template_id: content.template_id,
          // Alipay's model types `required`/`optional` as JSON *strings* inside biz_content.
          fields: {
            required: jsonText(content.fields.required),
            ...(content.fields.optional === undefined
              ? {}
              : { optional: jsonText(content.fields.optional) }),
          },
        },
        opts,
      ),
    applyActivateUrl: (content, opts) =>
      biz('alipay.marketing.card.activateurl.apply', content, opts),
    // oauth.token takes top-level params, not biz_content (reference §1.2).
    exchangeAuthCode: async (code, opts = {}) =>
      (await exec(
        'alipay.system.oauth.token',
        { grant_type: 'authorization_code', code },
        opts,
      )) as unknown as OauthTokenResult,
    refreshAuthToken: async (refreshToken, opts = {}) =>
      (await exec(
        'alipay.system.oauth.token',
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        opts,
      )) as unknown as OauthTokenResult,
    exchangeAppAuthCode: async (code, opts) =>
      firstGrant(
        await biz<Record<string, unknown>>(
          'alipay.open.auth.token.app',
          { grant_type: 'authorization_code', code },
          opts,
        ),
        'alipay.open.auth.token.app',
      ),
    refreshAppAuthToken: async (refreshToken, opts) =>
      firstGrant(
        await biz<Record<string, unknown>>(
          'alipay.open.auth.token.app',
          { grant_type: 'refresh_token', refresh_token: refreshToken },
          opts,
        ),
        'alipay.open.auth.token.app',
      ),
    queryAppAuthToken: (appAuthToken, opts) =>
      biz('alipay.open.auth.token.app.query', { app_auth_token: appAuthToken }, opts),
    queryActivateForm: async (content, opts) =>
      biz(
        'alipay.marketing.card.activateform.query',
        content,
        requireUser(opts, 'alipay.marketing.card.activateform.query'),
      ),
    queryAuthInfo: async (content, opts) =>
      biz(
        'alipay.marketing.card.authinfo.query',
        content,
        requireUser(opts, 'alipay.marketing.card.authinfo.query'),
      ),
    openCard: async (content, opts) =>
      biz('alipay.marketing.card.open', content, requireUser(opts, 'alipay.marketing.card.open')),
    queryCard: (content, opts) => biz('alipay.marketing.card.query', content, opts),
    updateCard: (content, opts) => biz('alipay.marketing.card.update', content, opts),
    deleteCard: (content, opts) => biz('alipay.marketing.card.delete', content, opts),
    notifyCardMessage: (content, opts) =>
      biz('alipay.marketing.card.message.notify', content, opts),
    createCampaignActivity: (content, opts) =>
      biz('koubei.marketing.campaign.activity.create', content, opts),
    queryCampaignActivity: (content, opts) =>
      biz('koubei.marketing.campaign.activity.query', content, opts),
    updateToolPoints: (content, opts) => biz('koubei.marketing.tool.points.update', content, opts),
    queryToolPoints: (content, opts) => biz('koubei.marketing.tool.points.query', content, opts),
    authPrizeSend: (content, opts) => biz('koubei.marketing.tool.prizesend.auth', content, opts),
    call: async <T>(
      method: string,
      content: object | undefined,
      opts: CallOptions = {},
      topLevel: Record<string, string> = {},
    ) =>
      (await exec(
        method,
        content === undefined ? { ...topLevel } : { ...topLevel, biz_content: content },
        opts,
      )) as T,
  }
}

/** Verifies a raw answer again (now that its certificate is known) and returns its node. */
function verifiedAnswer(
  sdk: VerifyingAlipaySdk,
  method: string,
  raw: string,
  traceId: string | undefined,
): GatewayResult {
  const responseKey = `${method.replaceAll('.', '_')}_response`
  const parsed = JSON.parse(raw) as Record<string, unknown>
  sdk.checkResponseSign(raw, responseKey, parsed.sign as string | undefined, traceId)
  const node = extractSignedNode(raw, responseKey) ? responseKey : 'error_response'
  const data = parsed[node] as GatewayResult | undefined
  if (!data) {
    throw new AlipayRequestError(`Response 格式错误，返回值 ${responseKey} 找不到`, {
      responseDataRaw: raw,
    })
  }
  return traceId ? { ...data, traceId } : data
}

/** The protocol params a call adds; empty values are left out (the SDK would sign them, §1.4). */
function protocolParams(opts: CallOptions): Record<string, string> {
  const out: Record<string, string> = {}
  if (opts.appAuthToken) {
    out.app_auth_token = opts.appAuthToken
  }
  if (opts.authToken) {
    out.auth_token = opts.authToken
  }
  if (opts.notifyUrl) {
    out.notify_url = opts.notifyUrl
  }
  return out
}

/**
 * The grant of a token.app answer: the first of `tokens` (batch authorisation) or the flat fields
 * (older answers). BAD_RESPONSE when neither carries an `app_auth_token`.
 */
function firstGrant(body: Record<string, unknown>, method: string): AppAuthGrant {
  const tokens = Array.isArray(body.tokens) ? (body.tokens as unknown[]) : []
  const candidate = (tokens[0] ?? body) as Record<string, unknown>
  if (typeof candidate.app_auth_token !== 'string' || candidate.app_auth_token === '') {
    throw new AlipayError({
      code: AlipayErrorCode.BadResponse,
      msg: `${method} answered without app_auth_token`,
      method,
      retryable: false,
    })
  }
  return candidate as unknown as AppAuthGrant
}

function requireUser(opts: UserCallOptions | undefined, method: string): UserCallOptions {
  if (!opts?.authToken) {
    throw configError(`${method} needs the user's authToken`)
  }
  return opts
}

function jsonText(value: object | string): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function configError(msg: string, cause?: unknown): AlipayError {
  return new AlipayError({ code: AlipayErrorCode.ConfigInvalid, msg, retryable: false, cause })
}

/**
 * Maps whatever `exec()` threw to AlipayError. The SDK reports transport failures only through
 * `AlipayRequestError` messages (no status field for HTTP errors: reference §2.3), so the HTTP
 * status is read back from the message.
 */
function translateFailure(err: unknown, method: string, requestId: string): AlipayError {
  if (err instanceof AlipayError) {
    return err
  }
  if (err instanceof UntrustedAlipayCert || err instanceof UnknownAlipayCert) {
    return new AlipayError({
      code: AlipayErrorCode.CertUntrusted,
      msg: err.message,
      method,
      traceId: requestId,
      retryable: false,
      cause: err,
    })
  }
  if (err instanceof ResponseSignatureMismatch) {
    return new AlipayError({
      code: AlipayErrorCode.ResponseSignatureInvalid,
      msg: err.message,
      traceId: err.traceId ?? requestId,
      method,
      httpStatus: 200,
      raw: err.raw,
      cause: err,
    })
  }
  if (err instanceof AlipayRequestError) {
    const traceId = err.traceId ?? requestId
    const raw = err.responseDataRaw
    const status = /status: (\d{3})/.exec(err.message)?.[1]
    if (status !== undefined) {
      return new AlipayError({
        code: AlipayErrorCode.Http,
        msg: `HTTP ${status}`,
        traceId,
        method,
        httpStatus: Number(status),
        raw,
        cause: err,
      })
    }
    if (err.message.startsWith('HttpClient Request error')) {
      const causeName = err.cause instanceof Error ? err.cause.name : ''
      const timedOut = /Timeout/i.test(causeName)
      return new AlipayError({
        code: timedOut ? AlipayErrorCode.Timeout : AlipayErrorCode.Network,
        msg: err.cause instanceof Error ? err.cause.message : err.message,
        traceId,
        method,
        cause: err,
      })
    }
    return new AlipayError({
      code: AlipayErrorCode.BadResponse,
      msg: err.message,
      traceId,
      method,
      httpStatus: 200,
      raw,
      cause: err,
    })
  }
  return new AlipayError({
    code: AlipayErrorCode.BadResponse,
    msg: err instanceof Error ? err.message : String(err),
    traceId: requestId,
    method,
    retryable: false,
    cause: err,
  })
}
