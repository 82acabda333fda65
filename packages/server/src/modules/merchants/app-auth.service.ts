import { createHash, randomBytes } from 'node:crypto'
import QRCode from 'qrcode'
import {
  AlipayError,
  appAuthorizeUrl,
  normalizePublicKey,
  type AlipayClient,
  type AppAuthGrant,
} from '@kaguan/alipay'
import type { Config } from '../../config.js'
import type { AppDeps } from '../../deps.js'
import type { Logger } from '../../shared/log.js'
import { createSweeper, type Sweeper } from '../../shared/sweeper.js'
import { recordAudit } from '../audit/index.js'
import { acceptOnce } from '../inbox/index.js'
import { explainAlipayError } from './alipay-advice.js'
import * as repo from './app-auth.repository.js'
import type { AppAuthRow } from './app-auth.table.js'
import { MerchantErrors } from './merchants.errors.js'
import * as merchantsRepo from './merchants.repository.js'
import {
  createMerchant,
  gatewayUrlOf,
  type Actor,
  type MerchantDeps,
  type MerchantView,
} from './merchants.service.js'

/**
 * Onboarding by third-party app authorisation (第三方应用授权, issue 14, docs/alipay-app-auth.md).
 * The ISV runs kaguan with ONE Alipay app of its own (config `isv.*`). The console creates a
 * pending merchant and shows Alipay's authorisation link; the merchant's owner agrees in Alipay,
 * which sends the browser to `/alipay/app-auth/callback` with `app_auth_code` and our `state`;
 * kaguan redeems the code (`alipay.open.auth.token.app`) for the merchant's `app_auth_token`.
 * From then on `alipayContext` gives that merchant the ISV's client plus its token, so no other
 * module knows whose app it is. The worker refreshes tokens before they expire; Alipay's
 * `alipay.open.auth.appauth.cancelled` message (or a refused refresh) marks the merchant revoked
 * and its calls stop with APP_AUTH_REVOKED until the owner authorises again.
 */

export type AppAuthDeps = MerchantDeps & Pick<AppDeps, 'db' | 'config' | 'log'>

export const STATE_CONTEXT = 'merchant_app_auths.state'
export const TOKEN_CONTEXT = 'merchant_app_auths.app_auth_token'
export const REFRESH_CONTEXT = 'merchant_app_auths.refresh_token'

/** Where Alipay sends the authorising merchant back (the ISV app's 授权回调地址). */
export const APP_AUTH_CALLBACK_PATH = '/alipay/app-auth/callback'
/** The ISV app's own message gateway (应用网关): authorisation cancellations arrive here. */
export const ISV_GATEWAY_PATH = '/alipay/isv/gateway'
/** Alipay's message that a merchant withdrew its authorisation. */
export const APP_AUTH_CANCELLED = 'alipay.open.auth.appauth.cancelled'

/** The ISV's app as configured, keys as given (PEM or base64). */
export interface IsvApp {
  appId: string
  privateKey: string
  alipayPublicKey: string
  gatewayUrl: string
  publicUrl: string
}

/** The ISV app of the configuration; ISV_NOT_CONFIGURED naming every missing setting. */
export function isvApp(config: Pick<Config, 'isv'> | undefined): IsvApp {
  const isv = config?.isv
  const missing = [
    ...(isv?.appId ? [] : ['isv.appId (KAGUAN_ISV_APP_ID)']),
    ...(isv?.privateKey ? [] : ['isv.privateKeyFile (KAGUAN_ISV_PRIVATE_KEY_FILE)']),
    ...(isv?.alipayPublicKey ? [] : ['isv.alipayPublicKey (KAGUAN_ISV_ALIPAY_PUBLIC_KEY)']),
    ...(isv?.publicUrl ? [] : ['isv.publicUrl (KAGUAN_ISV_PUBLIC_URL)']),
  ]
  if (!isv || missing.length) {
    throw MerchantErrors.isvNotConfigured(missing)
  }
  return {
    appId: isv.appId!,
    privateKey: isv.privateKey!,
    alipayPublicKey: normalizePublicKey(isv.alipayPublicKey!),
    gatewayUrl: gatewayUrlOf(isv.gateway),
    publicUrl: isv.publicUrl!.replace(/\/+$/, ''),
  }
}

/** The ISV app's client: one per merchant it acts for (the port caches by merchant id). */
function isvClient(deps: Pick<AppDeps, 'alipay'>, isv: IsvApp, forMerchant: string): AlipayClient {
  return deps.alipay.forMerchant({
    merchantId: forMerchant,
    appId: isv.appId,
    privateKey: isv.privateKey,
    alipayPublicKey: isv.alipayPublicKey,
    gateway: isv.gatewayUrl,
  })
}

/** A merchant's authorisation as the console shows it: never a token. */
export interface AppAuthView {
  merchantId: string
  merchantName: string
  status: 'pending' | 'authorised' | 'revoked'
  isvAppId: string
  /** The link to send the merchant's owner (also as a QR code); null once used. */
  link: string | null
  authAppId: string | null
  authUserId: string | null
  tokenExpiresAt: string | null
  refreshExpiresAt: string | null
  authorisedAt: string | null
  refreshedAt: string | null
  revokedAt: string | null
  lastError: string | null
  createdAt: string
}

function hashState(state: string): string {
  return createHash('sha256').update(state).digest('hex')
}

function toView(
  deps: Pick<AppDeps, 'cipher' | 'config'>,
  row: AppAuthRow,
  merchantName: string,
): AppAuthView {
  let link: string | null = null
  if (row.state_enc) {
    try {
      const isv = isvApp(deps.config)
      link = appAuthorizeUrl(isv.gatewayUrl, {
        appId: isv.appId,
        redirectUri: `${isv.publicUrl}${APP_AUTH_CALLBACK_PATH}`,
        state: deps.cipher.decrypt(row.state_enc, STATE_CONTEXT),
      })
    } catch {
      link = null
    }
  }
  return {
    merchantId: row.merchant_id,
    merchantName,
    status: row.status,
    isvAppId: row.isv_app_id,
    link,
    authAppId: row.auth_app_id,
    authUserId: row.auth_user_id,
    tokenExpiresAt: row.token_expires_at,
    refreshExpiresAt: row.refresh_expires_at,
    authorisedAt: row.authorised_at,
    refreshedAt: row.refreshed_at,
    revokedAt: row.revoked_at,
    lastError: row.last_error,
    createdAt: row.created_at,
  }
}

async function viewOf(deps: AppAuthDeps, merchantId: string): Promise<AppAuthView> {
  const row = await repo.findAppAuth(deps.db, merchantId)
  if (!row) {
    throw MerchantErrors.appAuthNotFound(merchantId)
  }
  const merchant = await merchantsRepo.findById(deps.db, merchantId)
  return toView(deps, row, merchant?.name ?? merchantId)
}

/** A fresh state for a link: random, stored encrypted and by hash. */
function newState(deps: Pick<AppDeps, 'cipher'>): { state_hash: string; state_enc: string } {
  const state = randomBytes(24).toString('base64url')
  return { state_hash: hashState(state), state_enc: deps.cipher.encrypt(state, STATE_CONTEXT) }
}

/** The platform admin adds a merchant that will authorise the ISV app: pending, with its link. */
export async function onboardMerchant(
  deps: AppAuthDeps,
  input: { name: string },
  actor: Actor,
): Promise<{ merchant: MerchantView; appAuth: AppAuthView }> {
  const name = input.name.trim()
  if (!name || name.length > 64) {
    throw MerchantErrors.appAuthMerchantInvalid('name: give the merchant a name of 1-64 characters')
  }
  const isv = isvApp(deps.config)
  const merchant = await createMerchant(deps, { name }, actor)
  const now = deps.clock.nowIso()
  // Claim callbacks and notifications of an onboarded merchant come to the ISV's public address.
  await merchantsRepo.update(deps.db, merchant.id, {
    public_base_url: isv.publicUrl,
    updated_at: now,
  })
  await repo.insertAppAuth(deps.db, {
    merchant_id: merchant.id,
    status: 'pending',
    isv_app_id: isv.appId,
    ...newState(deps),
    created_at: now,
    updated_at: now,
  })
  await recordAudit(deps, {
    merchantId: merchant.id,
    ...actor,
    action: 'merchant.app_auth.link',
    target: { type: 'merchant', id: merchant.id },
    after: { isvAppId: isv.appId },
  })
  return {
    merchant: { ...merchant, publicBaseUrl: isv.publicUrl },
    appAuth: await viewOf(deps, merchant.id),
  }
}

export async function listAppAuths(deps: AppAuthDeps): Promise<AppAuthView[]> {
  const names = new Map((await merchantsRepo.list(deps.db)).map((m) => [m.id, m.name]))
  return (await repo.listAppAuths(deps.db)).map((row) =>
    toView(deps, row, names.get(row.merchant_id) ?? row.merchant_id),
  )
}

export function getAppAuth(deps: AppAuthDeps, merchantId: string): Promise<AppAuthView> {
  return viewOf(deps, merchantId)
}

/** The authorisation link as a QR code (PNG) for the owner to scan in Alipay; 404 once used. */
export async function appAuthQrPng(deps: AppAuthDeps, merchantId: string): Promise<Buffer> {
  const view = await viewOf(deps, merchantId)
  if (!view.link) {
    throw MerchantErrors.appAuthNotFound(merchantId)
  }
  return QRCode.toBuffer(view.link, { type: 'png', margin: 2, width: 512 })
}

/** A new link (the old one stops working): to re-authorise after a revocation, or a lost link. */
export async function renewAppAuthLink(
  deps: AppAuthDeps,
  merchantId: string,
  actor: Actor,
): Promise<AppAuthView> {
  const row = await repo.findAppAuth(deps.db, merchantId)
  if (!row) {
    throw MerchantErrors.appAuthNotFound(merchantId)
  }
  const isv = isvApp(deps.config)
  await repo.updateAppAuth(deps.db, merchantId, {
    ...newState(deps),
    isv_app_id: isv.appId,
    updated_at: deps.clock.nowIso(),
  })
  await recordAudit(deps, {
    merchantId,
    ...actor,
    action: 'merchant.app_auth.link',
    target: { type: 'merchant', id: merchantId },
    before: { status: row.status },
    after: { isvAppId: isv.appId },
  })
  return viewOf(deps, merchantId)
}

function expiryOf(now: Date, seconds: string | number | undefined): string | null {
  const n = Number(seconds)
  return seconds === undefined || !Number.isFinite(n) || n <= 0
    ? null
    : new Date(now.getTime() + n * 1000).toISOString()
}

function tokenColumns(deps: Pick<AppDeps, 'cipher' | 'clock'>, grant: AppAuthGrant) {
  const now = deps.clock.now()
  return {
    app_auth_token_enc: deps.cipher.encrypt(grant.app_auth_token, TOKEN_CONTEXT),
    refresh_token_enc: grant.app_refresh_token
      ? deps.cipher.encrypt(grant.app_refresh_token, REFRESH_CONTEXT)
      : null,
    token_expires_at: expiryOf(now, grant.expires_in),
    refresh_expires_at: expiryOf(now, grant.re_expires_in),
  }
}

/**
 * Alipay sent the merchant's owner back: checks the state, redeems the code for the merchant's
 * tokens and marks the merchant authorised. Answers the merchant, for the page the owner sees.
 */
export async function completeAppAuth(
  deps: AppAuthDeps,
  input: { appId?: string | undefined; appAuthCode: string; state?: string | undefined },
): Promise<{ merchantId: string; merchantName: string }> {
  const isv = isvApp(deps.config)
  if (input.appId !== undefined && input.appId !== isv.appId) {
    throw MerchantErrors.appAuthAppMismatch(input.appId)
  }
  const row = input.state
    ? await repo.findAppAuthByState(deps.db, hashState(input.state))
    : undefined
  if (!row) {
    throw MerchantErrors.appAuthStateInvalid()
  }
  let grant: AppAuthGrant
  try {
    grant = await isvClient(deps, isv, row.merchant_id).exchangeAppAuthCode(input.appAuthCode)
  } catch (error) {
    throw explainAlipayError(error, 'oauth')
  }
  const now = deps.clock.nowIso()
  await repo.updateAppAuth(deps.db, row.merchant_id, {
    status: 'authorised',
    isv_app_id: isv.appId,
    state_hash: null,
    state_enc: null,
    auth_app_id: grant.auth_app_id ?? null,
    auth_user_id: grant.user_id ?? null,
    ...tokenColumns(deps, grant),
    authorised_at: now,
    refreshed_at: null,
    revoked_at: null,
    last_error: null,
    updated_at: now,
  })
  const others = grant.auth_app_id
    ? (await repo.findAppAuthsByAuthApp(deps.db, grant.auth_app_id)).filter(
        (r) => r.merchant_id !== row.merchant_id && r.status === 'authorised',
      )
    : []
  if (others.length) {
    deps.log.warn(
      { merchantId: row.merchant_id, others: others.map((o) => o.merchant_id) },
      'one Alipay app authorised the ISV app for several kaguan merchants',
    )
  }
  await recordAudit(deps, {
    merchantId: row.merchant_id,
    actor: 'alipay',
    action: 'merchant.app_auth.authorise',
    target: { type: 'merchant', id: row.merchant_id },
    before: { status: row.status },
    after: {
      status: 'authorised',
      authAppId: grant.auth_app_id ?? null,
      authUserId: grant.user_id ?? null,
    },
  })
  const merchant = await merchantsRepo.findById(deps.db, row.merchant_id)
  return { merchantId: row.merchant_id, merchantName: merchant?.name ?? row.merchant_id }
}

/** Alipay refused the refresh token itself: the authorisation is over, not a passing failure. */
function authorisationEnded(error: unknown): boolean {
  return (
    error instanceof AlipayError &&
    /refresh-token-(invalid|time-out)|refreshed-token-invalid|invalid-app-auth-token/.test(
      error.subCode ?? '',
    )
  )
}

/**
 * Refreshes one merchant's token now. Two refreshers at once: only the one whose refresh token is
 * still current stores its answer. Answers the view; a refused refresh token marks it revoked.
 */
async function refreshRow(deps: AppAuthDeps, row: AppAuthRow, actor: Actor): Promise<void> {
  if (row.status !== 'authorised' || !row.refresh_token_enc) {
    throw row.status === 'revoked'
      ? MerchantErrors.appAuthRevoked(row.merchant_id)
      : MerchantErrors.appAuthPending(row.merchant_id)
  }
  const isv = isvApp(deps.config)
  const refresh = deps.cipher.decrypt(row.refresh_token_enc, REFRESH_CONTEXT)
  let grant: AppAuthGrant
  try {
    grant = await isvClient(deps, isv, row.merchant_id).refreshAppAuthToken(refresh)
  } catch (error) {
    const current = await repo.findAppAuth(deps.db, row.merchant_id)
    if (current?.refresh_token_enc !== row.refresh_token_enc) {
      return // another worker refreshed first
    }
    const explained = explainAlipayError(error, 'oauth')
    if (authorisationEnded(error)) {
      await markRevoked(deps, row, 'refresh token refused: ' + explained.code, actor)
    } else {
      await repo.updateAppAuth(deps.db, row.merchant_id, {
        last_error: `${explained.code}: ${explained.message}`.slice(0, 500),
        updated_at: deps.clock.nowIso(),
      })
    }
    throw explained
  }
  const now = deps.clock.nowIso()
  const swapped = await repo.swapTokens(deps.db, row.merchant_id, row.refresh_token_enc, {
    ...tokenColumns(deps, {
      ...grant,
      app_refresh_token: grant.app_refresh_token ?? refresh,
    }),
    refreshed_at: now,
    last_error: null,
    updated_at: now,
  })
  if (swapped) {
    await recordAudit(deps, {
      merchantId: row.merchant_id,
      ...actor,
      action: 'merchant.app_auth.refresh',
      target: { type: 'merchant', id: row.merchant_id },
      before: { tokenExpiresAt: row.token_expires_at },
      after: { tokenExpiresAt: expiryOf(deps.clock.now(), grant.expires_in) },
    })
  }
}

/** The console's "refresh now". */
export async function refreshAppAuth(
  deps: AppAuthDeps,
  merchantId: string,
  actor: Actor,
): Promise<AppAuthView> {
  const row = await repo.findAppAuth(deps.db, merchantId)
  if (!row) {
    throw MerchantErrors.appAuthNotFound(merchantId)
  }
  await refreshRow(deps, row, actor)
  return viewOf(deps, merchantId)
}

/**
 * The worker's job: refreshes every token expiring within `isv.refreshAheadSeconds`. One failure
 * does not stop the others; answers how many were refreshed.
 */
export async function refreshDueAppAuths(deps: AppAuthDeps, limit = 20): Promise<number> {
  const ahead = deps.config.isv.refreshAheadSeconds * 1000
  const before = new Date(deps.clock.now().getTime() + ahead).toISOString()
  const due = await repo.findDueForRefresh(deps.db, before, limit)
  let refreshed = 0
  for (const row of due) {
    // A merchant whose last refresh failed is tried again after a while, not every sweep.
    if (row.last_error && Date.parse(row.updated_at) > deps.clock.now().getTime() - 300_000) {
      continue
    }
    try {
      await refreshRow(deps, row, { actor: 'worker' })
      refreshed++
    } catch (error) {
      deps.log.warn(
        { merchantId: row.merchant_id, code: (error as { code?: string }).code },
        'app_auth_token refresh failed',
      )
    }
  }
  return refreshed
}

export type AppAuthSweeper = Sweeper

/** The worker's periodic token refresh. */
export function createAppAuthSweeper(
  deps: AppAuthDeps & { log: Logger },
  options: { everyMs: number },
): AppAuthSweeper {
  return createSweeper({
    name: 'app auth refresh',
    everyMs: options.everyMs,
    log: deps.log,
    sweep: async () => {
      // Nothing to do on an install without an ISV app.
      if (!deps.config.isv.appId) {
        return 0
      }
      const n = await refreshDueAppAuths(deps)
      if (n) {
        deps.log.info({ refreshed: n }, 'app_auth_tokens refreshed')
      }
      return n
    },
  })
}

async function markRevoked(
  deps: AppAuthDeps,
  row: AppAuthRow,
  reason: string,
  actor: Actor,
): Promise<void> {
  const now = deps.clock.nowIso()
  await repo.updateAppAuth(deps.db, row.merchant_id, {
    status: 'revoked',
    app_auth_token_enc: null,
    refresh_token_enc: null,
    revoked_at: now,
    last_error: reason.slice(0, 500),
    updated_at: now,
  })
  await recordAudit(deps, {
    merchantId: row.merchant_id,
    ...actor,
    action: 'merchant.app_auth.revoke',
    target: { type: 'merchant', id: row.merchant_id },
    before: { status: row.status, authAppId: row.auth_app_id },
    after: { status: 'revoked', reason },
  })
}

/**
 * Alipay's `alipay.open.auth.appauth.cancelled` (already verified with the ISV app's Alipay key):
 * every merchant of ours that the named app had authorised is revoked. Answers their ids; a
 * message seen before (same notify id) changes nothing.
 */
export async function handleAppAuthCancelled(
  deps: AppAuthDeps,
  message: { notifyId?: string | undefined; appId?: string | undefined; bizContent: unknown },
): Promise<string[]> {
  const isv = isvApp(deps.config)
  const biz = (message.bizContent ?? {}) as Record<string, unknown>
  const detail = (
    typeof biz.detail === 'object' && biz.detail !== null ? biz.detail : biz
  ) as Record<string, unknown>
  const authAppId = typeof detail.auth_app_id === 'string' ? detail.auth_app_id : undefined
  const isvAppId = typeof detail.app_id === 'string' ? detail.app_id : (message.appId ?? isv.appId)
  if (!authAppId || isvAppId !== isv.appId) {
    deps.log.warn(
      { authAppId, isvAppId },
      'app authorisation cancelled for an app that is not ours',
    )
    return []
  }
  const rows = (await repo.findAppAuthsByAuthApp(deps.db, authAppId)).filter(
    (r) => r.status === 'authorised' && r.isv_app_id === isv.appId,
  )
  const revoked: string[] = []
  for (const row of rows) {
    const fresh = message.notifyId
      ? await acceptOnce(deps, {
          source: 'alipay.app_auth',
          messageId: `${message.notifyId}:${row.merchant_id}`,
          merchantId: row.merchant_id,
        })
      : true
    if (!fresh) {
      continue
    }
    await markRevoked(
      deps,
      row,
      'the merchant cancelled the authorisation (alipay.open.auth.appauth.cancelled)',
      {
        actor: 'alipay',
      },
    )
    revoked.push(row.merchant_id)
  }
  return revoked
}

/**
 * Asks Alipay (`alipay.open.auth.token.app.query`) whether the merchant's authorisation stands; a
 * missed cancellation message is caught this way. Invalid → revoked.
 */
export async function checkAppAuth(
  deps: AppAuthDeps,
  merchantId: string,
  actor: Actor,
): Promise<AppAuthView> {
  const row = await repo.findAppAuth(deps.db, merchantId)
  if (!row) {
    throw MerchantErrors.appAuthNotFound(merchantId)
  }
  if (row.status !== 'authorised' || !row.app_auth_token_enc) {
    return viewOf(deps, merchantId)
  }
  const isv = isvApp(deps.config)
  const token = deps.cipher.decrypt(row.app_auth_token_enc, TOKEN_CONTEXT)
  let status: string | undefined
  try {
    status = (await isvClient(deps, isv, merchantId).queryAppAuthToken(token)).status
  } catch (error) {
    if (!authorisationEnded(error)) {
      throw explainAlipayError(error, 'oauth')
    }
    status = 'invalid'
  }
  if (status === 'invalid') {
    await markRevoked(deps, row, 'alipay.open.auth.token.app.query answered invalid', actor)
  }
  return viewOf(deps, merchantId)
}

/** What `alipayContext` needs of an onboarded merchant: the ISV app and the merchant's token. */
export interface AuthorisedApp {
  client: AlipayClient
  /** The merchant's own app id (the app acted for); the ISV's when Alipay did not name it. */
  appId: string
  appAuthToken: string
  alipayPublicKey: string
}

/**
 * The ISV client and token of an onboarded merchant; undefined when the merchant was not onboarded
 * by app authorisation. APP_AUTH_PENDING / APP_AUTH_REVOKED stop every call for it.
 */
export async function authorisedApp(
  deps: Pick<AppDeps, 'db' | 'cipher' | 'alipay'> & { config?: Pick<Config, 'isv'> },
  merchantId: string,
): Promise<AuthorisedApp | undefined> {
  const row = await repo.findAppAuth(deps.db, merchantId)
  if (!row) {
    return undefined
  }
  if (row.status === 'revoked') {
    throw MerchantErrors.appAuthRevoked(merchantId)
  }
  if (row.status !== 'authorised' || !row.app_auth_token_enc) {
    throw MerchantErrors.appAuthPending(merchantId)
  }
  const isv = isvApp(deps.config)
  return {
    client: isvClient(deps, isv, merchantId),
    appId: row.auth_app_id ?? isv.appId,
    appAuthToken: deps.cipher.decrypt(row.app_auth_token_enc, TOKEN_CONTEXT),
    alipayPublicKey: isv.alipayPublicKey,
  }
}

/**
 * Who an Alipay message names, for an onboarded merchant: the ISV's Alipay key verifies it, and the
 * app id it carries is the merchant's authorised app or the ISV's. Undefined when not onboarded.
 */
export async function authorisedSender(
  deps: Pick<AppDeps, 'db'> & { config?: Pick<Config, 'isv'> },
  merchantId: string,
  appId: string | undefined,
): Promise<{ merchantId: string; alipayPublicKey: string } | null | undefined> {
  const row = await repo.findAppAuth(deps.db, merchantId)
  if (!row) {
    return undefined
  }
  let isv: IsvApp
  try {
    isv = isvApp(deps.config)
  } catch {
    return null
  }
  if (appId !== undefined && appId !== row.auth_app_id && appId !== isv.appId) {
    return null
  }
  return { merchantId, alipayPublicKey: isv.alipayPublicKey }
}

/** Whether an onboarded merchant runs on this app id (its authorised app, or the ISV's own). */
export async function usesAuthorisedApp(
  deps: Pick<AppDeps, 'db'> & { config?: Pick<Config, 'isv'> },
  merchantId: string,
  appId: string,
): Promise<boolean> {
  const row = await repo.findAppAuth(deps.db, merchantId)
  return (
    row !== undefined &&
    (row.auth_app_id === appId ||
      (deps.config?.isv.appId !== undefined && deps.config.isv.appId === appId))
  )
}
