import { MerchantErrors } from './merchants.errors.js'
import {
  AlipayError,
  signOpenCardSpiAnswer,
  type AlipayClient,
  type OpenCardSpiAnswer,
} from '@kaguan/alipay'
import type { AppDeps } from '../../deps.js'
import { crmPolicies, type CrmCallPolicy } from './crm-policy-cache.js'
import * as repo from './merchants.repository.js'
import {
  APP_AUTH_TOKEN_CONTEXT,
  CRM_TOKEN_CONTEXT,
  gatewayUrlOf,
  isAlipayOwnGateway,
  type MerchantDeps,
  PRIVATE_KEY_CONTEXT,
  requireRow,
} from './merchants.service.js'
import { acceptedKeysOf, noteCrmTokenSeen } from './merchants.keys.service.js'
import type { MerchantRow } from './merchants.table.js'
import { certificatesOf, storeRotatedAlipayCert } from './alipay-certs.service.js'
import type { Config } from '../../config.js'
import { authorisedApp, authorisedSender, usesAuthorisedApp } from './app-auth.service.js'

/** The ISV app lives in the configuration; callers pass their whole deps, which carry it. */
type IsvDeps = { config?: Pick<Config, 'isv'> }

/** What kaguan needs to call a merchant's CRM (decrypted; never leaves the server). */
export interface CrmConnection {
  baseUrl: string
  /** The token sent first: the new one while a token rotation is under way. */
  token: string
  /** During a token rotation, the old token: sent when the CRM refuses `token` (401/403). */
  fallbackToken?: string
  /** Told which token the CRM accepted (a rotation notes when the new one is first accepted). */
  onTokenAccepted?: (which: 'token' | 'fallback') => void
  publicKey: string
}

export async function crmConnection(
  deps: MerchantDeps & Pick<AppDeps, 'db' | 'clock'>,
  id: string,
): Promise<CrmConnection | undefined> {
  const row = await requireRow(deps, id)
  if (row.crm_mode !== 'crm' || !row.crm_base_url || !row.crm_token_enc || !row.crm_public_key) {
    return undefined
  }
  const current = deps.cipher.decrypt(row.crm_token_enc, CRM_TOKEN_CONTEXT)
  if (!row.crm_token_next_enc) {
    return { baseUrl: row.crm_base_url, token: current, publicKey: row.crm_public_key }
  }
  const seen = row.crm_token_next_seen_at !== null
  return {
    baseUrl: row.crm_base_url,
    token: deps.cipher.decrypt(row.crm_token_next_enc, CRM_TOKEN_CONTEXT),
    fallbackToken: current,
    onTokenAccepted: (which) => {
      if (which === 'token' && !seen) {
        // Outside any transaction (a CRM call is never made inside one); a lost note is harmless.
        void noteCrmTokenSeen(deps, id).catch(() => undefined)
      }
    },
    publicKey: row.crm_public_key,
  }
}

/** What the Alipay-facing flows need of a merchant. */
export interface AlipayContext {
  merchantId: string
  client: AlipayClient
  appId: string
  appAuthToken: string | undefined
  publicBaseUrl: string | null
  ownGateway: boolean
}

/** The merchant's Alipay client; ALIPAY_NOT_CONFIGURED (400) when the app is not set up. */
export async function alipayContext(
  deps: MerchantDeps & Pick<AppDeps, 'db'> & IsvDeps,
  id: string,
): Promise<AlipayContext> {
  const row = await requireRow(deps, id)
  if (!row.alipay_app_id) {
    // Onboarded by app authorisation: the ISV's app acts for the merchant with its app_auth_token
    // (APP_AUTH_PENDING / APP_AUTH_REVOKED stop the call here, before anything reaches Alipay).
    const isv = await authorisedApp(deps, id)
    if (isv) {
      return {
        merchantId: id,
        client: isv.client,
        appId: isv.appId,
        appAuthToken: isv.appAuthToken,
        publicBaseUrl: row.public_base_url,
        ownGateway: isAlipayOwnGateway(isv.client.gateway),
      }
    }
  }
  if (
    !row.alipay_app_id ||
    !row.alipay_private_key_enc ||
    !row.alipay_public_key ||
    !row.alipay_gateway
  ) {
    throw MerchantErrors.alipayNotConfigured(id)
  }
  const certificates = certificatesOf(row, deps.cipher)
  const app = {
    merchantId: id,
    appId: row.alipay_app_id,
    privateKey: deps.cipher.decrypt(row.alipay_private_key_enc, PRIVATE_KEY_CONTEXT),
    alipayPublicKey: row.alipay_public_key,
    gateway: gatewayUrlOf(row.alipay_gateway),
    charset: row.alipay_charset,
    ...(certificates
      ? {
          certificates,
          // A rotated Alipay certificate, downloaded and checked by the client: keep it.
          onAlipayCertRotated: (rotated: { sn: string; alipayPublicCert: string }) =>
            storeRotatedAlipayCert(deps, id, rotated),
        }
      : {}),
  }
  const active = deps.alipay.forMerchant(app)
  const staged = row.alipay_private_key_next_enc
  const client = staged
    ? withStagedKey(active, () =>
        deps.alipay.forMerchant({
          ...app,
          merchantId: `${id}#staged`,
          privateKey: deps.cipher.decrypt(staged, PRIVATE_KEY_CONTEXT),
        }),
      )
    : active
  return {
    merchantId: id,
    client,
    appId: row.alipay_app_id,
    appAuthToken: row.alipay_app_auth_token_enc
      ? deps.cipher.decrypt(row.alipay_app_auth_token_enc, APP_AUTH_TOKEN_CONTEXT)
      : undefined,
    publicBaseUrl: row.public_base_url,
    ownGateway: isAlipayOwnGateway(row.alipay_gateway),
  }
}

/** The merchant whose Alipay app has this id (notifications and callbacks name the app). */
/**
 * The merchant of an Alipay app, when the app id alone tells: an ISV app serving several merchants
 * does not, and then the per-merchant paths (or the template id) must.
 */
async function onlyMerchantOfApp(
  deps: Pick<AppDeps, 'db'>,
  appId: string,
): Promise<MerchantRow | undefined> {
  const { db } = deps
  const rows = await repo.findByAppId(db, appId)
  return rows.length === 1 ? rows[0] : undefined
}

/** Whether the merchant runs on this Alipay app (a claim callback names the app it came through). */
export async function usesAlipayApp(
  deps: Pick<AppDeps, 'db'> & IsvDeps,
  merchantId: string,
  appId: string,
): Promise<boolean> {
  const { db } = deps
  const row = await repo.findById(db, merchantId)
  if (row && !row.alipay_app_id) {
    return usesAuthorisedApp(deps, merchantId, appId)
  }
  return row?.alipay_app_id === appId
}

/** How the merchant keeps members: its CRM, or kaguan with this card numbering. */
export interface MemberSystem {
  mode: 'none' | 'crm'
  numbering: { prefix: string; style: 'random' | 'sequential' }
  /** CRM calls must carry timestamp + nonce. */
  replayStrict: boolean
}

export async function memberSystem(deps: Pick<AppDeps, 'db'>, id: string): Promise<MemberSystem> {
  const row = await requireRow(deps, id)
  return {
    mode: row.crm_mode,
    numbering: { prefix: row.member_no_prefix, style: row.member_no_style },
    replayStrict: row.crm_replay_strict === 1,
  }
}

/**
 * Who sent an Alipay message and the key to verify it with. The path kaguan registered names the
 * merchant (`/alipay/notify/<merchant id>`); when it does not (an older registration), the app id
 * must name exactly one merchant. A message whose app id is not the merchant's is not theirs.
 */
export async function notifiedApp(
  deps: Pick<AppDeps, 'db'> & IsvDeps,
  sent: { merchantId?: string; appId?: string },
): Promise<{ merchantId: string; alipayPublicKey: string } | undefined> {
  const { db } = deps
  if (sent.merchantId) {
    // An onboarded merchant's messages are signed for the ISV app (its Alipay key verifies them).
    const onboarded = await authorisedSender(deps, sent.merchantId, sent.appId)
    if (onboarded !== undefined) {
      return onboarded ?? undefined
    }
  }
  const row = sent.merchantId
    ? await repo.findById(db, sent.merchantId)
    : sent.appId
      ? await onlyMerchantOfApp(deps, sent.appId)
      : undefined
  if (!row?.alipay_public_key || (sent.appId !== undefined && sent.appId !== row.alipay_app_id)) {
    return undefined
  }
  return { merchantId: row.id, alipayPublicKey: row.alipay_public_key }
}

/**
 * What checking a signed CRM call needs of the merchant, in one read: the CRM public keys accepted
 * now (the current one first; during a key rotation the old one too, until its end: see
 * `acceptedCrmKeys`) and whether timestamp + nonce are required.
 */
export async function crmCallPolicy(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  id: string,
): Promise<CrmCallPolicy> {
  // Every signed CRM call asks: cached for CRM_POLICY_TTL_MS, dropped at each merchant write of
  // this process (merchants.repository.ts), so another kaguan process sees a new key within it.
  // A cached key whose overlap window has ended since is refused by its acceptedUntil (crm-auth).
  return (await crmPolicies.get(deps.db, id, async () => {
    const row = await requireRow(deps, id)
    return {
      acceptedKeys: acceptedKeysOf(row, deps.clock.nowIso()),
      replayStrict: row.crm_replay_strict === 1,
    }
  }))!
}

/**
 * The signed body of a 3.1 open-card SPI answer (`spi.alipay.user.opencard.get`), signed with the
 * merchant app's private key, which never leaves this module. ALIPAY_NOT_CONFIGURED without a key.
 */
export async function signedSpiAnswer(
  deps: MerchantDeps & Pick<AppDeps, 'db'>,
  id: string,
  answer: OpenCardSpiAnswer,
): Promise<string> {
  const row = await requireRow(deps, id)
  if (!row.alipay_private_key_enc) {
    throw MerchantErrors.alipayNotConfigured(id)
  }
  return signOpenCardSpiAnswer(
    answer,
    deps.cipher.decrypt(row.alipay_private_key_enc, PRIVATE_KEY_CONTEXT),
  )
}

/**
 * The Alipay client while a new app key is staged: calls are signed with the active key; one that
 * Alipay refuses as badly signed (the operator has uploaded the new public key but not activated
 * it in kaguan yet) is made again with the staged key, so no call is lost in between.
 */
function withStagedKey(active: AlipayClient, staged: () => AlipayClient): AlipayClient {
  return new Proxy(active, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (typeof value !== 'function') {
        return value
      }
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        } catch (error) {
          if (!(error instanceof AlipayError) || error.subCode !== 'isv.invalid-signature') {
            throw error
          }
          const other = staged()
          return (Reflect.get(other, property) as (...a: unknown[]) => Promise<unknown>).apply(
            other,
            args,
          )
        }
      }
    },
  })
}
