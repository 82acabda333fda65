import { MerchantErrors } from './merchants.errors.js'
import {
  ALIPAY_GATEWAY_PRODUCTION,
  ALIPAY_GATEWAY_SANDBOX,
  normalizePrivateKey,
  normalizePublicKey,
  publicKeyFingerprint,
  publicKeyOf,
} from '@kaguan/alipay'
import type { AppDeps } from '../../deps.js'
import { checkUrlAddress } from '../../shared/address-policy.js'
import { invalidFields, type FieldProblem } from '../../shared/errors.js'
import type { FieldCipher } from '../../shared/field-crypto.js'
import { recordAudit } from '../audit/index.js'
import * as repo from './merchants.repository.js'
import type { MerchantRow } from './merchants.table.js'
import { internalHostReason } from './public-address.js'
import {
  certificatesView,
  checkCertificates,
  type CertificatesView,
} from './alipay-certs.service.js'

/** The id of the merchant every install starts with; fixed so that restarts and races agree. */
export const DEFAULT_MERCHANT_ID = 'mch_default'

/** The paths of the `mini` role that Alipay calls; the console shows them for pasting. */
export const MINI_PATHS = {
  appGateway: '/alipay/gateway',
  callback: '/aliCallback',
  notify: '/alipay/notify',
  mdcode: '/alipay/mdcode',
} as const

/**
 * The addresses kaguan registers with Alipay for one merchant: the merchant id in the path tells
 * whose message it is, so one ISV app can serve several merchants (the bare paths stay for
 * registrations made before; there the app id must name one merchant).
 */
export function merchantPaths(merchantId: string) {
  return {
    appGateway: `${MINI_PATHS.appGateway}/${merchantId}`,
    callback: MINI_PATHS.callback,
    notify: `${MINI_PATHS.notify}/${merchantId}`,
    mdcode: `${MINI_PATHS.mdcode}/${merchantId}`,
  }
}

export type MerchantDeps = Pick<AppDeps, 'clock' | 'ids' | 'cipher' | 'alipay'>

/** Who changes something, for the audit log. */
export interface Actor {
  actor: string
  requestId?: string
}

/** A merchant as the admin API shows it: keys only as fingerprints. */
export interface MerchantView {
  id: string
  name: string
  isDefault: boolean
  alipay: {
    appId: string | null
    gateway: string | null
    gatewayUrl: string | null
    privateKeyFingerprint: string | null
    alipayPublicKeyFingerprint: string | null
    appAuthTokenSet: boolean
    configured: boolean
    signMode: 'key' | 'cert'
    charset: 'utf-8' | 'GBK'
    certificates: CertificatesView | null
  }
  publicBaseUrl: string | null
  consoleAddresses: { appGateway: string; callback: string } | null
  crm: {
    mode: 'none' | 'crm'
    baseUrl: string | null
    tokenSet: boolean
    publicKeyFingerprint: string | null
    strictReplay: boolean
  }
  memberNumbers: { prefix: string; style: 'random' | 'sequential' }
  messageChannel: 'http' | 'websocket'
  createdAt: string
}

export const PRIVATE_KEY_CONTEXT = 'merchants.alipay_private_key'
export const APP_AUTH_TOKEN_CONTEXT = 'merchants.alipay_app_auth_token'
export const CRM_TOKEN_CONTEXT = 'merchants.crm_token'

export function gatewayUrlOf(gateway: string): string {
  if (gateway === 'production') {
    return ALIPAY_GATEWAY_PRODUCTION
  }
  if (gateway === 'sandbox') {
    return ALIPAY_GATEWAY_SANDBOX
  }
  return gateway
}

/** Alipay's own gateways call back from the internet; the emulator or a test gateway may not. */
export function isAlipayOwnGateway(gateway: string | null): boolean {
  if (!gateway) {
    return false
  }
  const url = gatewayUrlOf(gateway)
  return (
    url === ALIPAY_GATEWAY_PRODUCTION ||
    url === ALIPAY_GATEWAY_SANDBOX ||
    /\.alipay(dev)?\.com\//.test(url)
  )
}

function fingerprintOrNull(pem: string | null, derive?: (k: string) => string): string | null {
  if (!pem) {
    return null
  }
  try {
    return publicKeyFingerprint(derive ? derive(pem) : pem)
  } catch {
    return null
  }
}

/** How far ahead certificate expiry is warned about when the caller does not say (the config's default). */
const DEFAULT_CERT_WARNING_DAYS = 30

function warningDaysOf(deps: object): number {
  const config = (deps as Partial<Pick<AppDeps, 'config'>>).config
  return config?.alipayCertExpiryWarningDays ?? DEFAULT_CERT_WARNING_DAYS
}

function toView(
  row: MerchantRow,
  cipher: FieldCipher,
  certWarningDays = DEFAULT_CERT_WARNING_DAYS,
): MerchantView {
  const privateKey = row.alipay_private_key_enc
    ? cipher.decrypt(row.alipay_private_key_enc, PRIVATE_KEY_CONTEXT)
    : null
  return {
    id: row.id,
    name: row.name,
    isDefault: row.is_default === 1,
    alipay: {
      appId: row.alipay_app_id,
      gateway: row.alipay_gateway,
      gatewayUrl: row.alipay_gateway ? gatewayUrlOf(row.alipay_gateway) : null,
      privateKeyFingerprint: fingerprintOrNull(privateKey, publicKeyOf),
      alipayPublicKeyFingerprint: fingerprintOrNull(row.alipay_public_key),
      appAuthTokenSet: row.alipay_app_auth_token_enc !== null,
      signMode: row.alipay_sign_mode,
      charset: row.alipay_charset,
      certificates: certificatesView(row, cipher, certWarningDays, Date.now()),
      configured: Boolean(
        row.alipay_app_id &&
        row.alipay_private_key_enc &&
        row.alipay_public_key &&
        row.alipay_gateway,
      ),
    },
    publicBaseUrl: row.public_base_url,
    consoleAddresses: row.public_base_url
      ? {
          appGateway: `${row.public_base_url}${merchantPaths(row.id).appGateway}`,
          callback: `${row.public_base_url}${merchantPaths(row.id).callback}`,
        }
      : null,
    crm: {
      mode: row.crm_mode,
      baseUrl: row.crm_base_url,
      tokenSet: row.crm_token_enc !== null,
      publicKeyFingerprint: fingerprintOrNull(row.crm_public_key),
      strictReplay: row.crm_replay_strict === 1,
    },
    memberNumbers: { prefix: row.member_no_prefix, style: row.member_no_style },
    messageChannel: row.message_channel,
    createdAt: row.created_at,
  }
}

export async function requireRow(deps: Pick<AppDeps, 'db'>, id: string): Promise<MerchantRow> {
  const { db } = deps
  const row = await repo.findById(db, id)
  if (!row) {
    throw MerchantErrors.notFound(id)
  }
  return row
}

/** Creates the default merchant when it does not exist yet. */
export async function ensureDefaultMerchant(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<void> {
  const { db, clock } = deps
  if (await repo.findDefault(db)) {
    return
  }
  const now = clock.nowIso()
  await repo.insertOnce(db, {
    id: DEFAULT_MERCHANT_ID,
    name: '默认商户',
    is_default: 1,
    created_at: now,
    updated_at: now,
  })
}

export async function listMerchants(
  deps: MerchantDeps & Pick<AppDeps, 'db'>,
): Promise<MerchantView[]> {
  const { db } = deps
  return (await repo.list(db)).map((r) => toView(r, deps.cipher, warningDaysOf(deps)))
}

export async function getMerchant(
  deps: MerchantDeps & Pick<AppDeps, 'db'>,
  id: string,
): Promise<MerchantView> {
  return toView(await requireRow(deps, id), deps.cipher, warningDaysOf(deps))
}

/** An ISV adds a merchant. */
export async function createMerchant(
  deps: MerchantDeps & Pick<AppDeps, 'db'>,
  input: { name: string },
  actor: Actor,
): Promise<MerchantView> {
  const { db } = deps
  const now = deps.clock.nowIso()
  const id = deps.ids.next('mch')
  await repo.insertOnce(db, {
    id,
    name: input.name.trim(),
    is_default: 0,
    created_at: now,
    updated_at: now,
  })
  await recordAudit(deps, {
    merchantId: id,
    ...actor,
    action: 'merchant.create',
    target: { type: 'merchant', id },
    after: { name: input.name },
  })
  return getMerchant(deps, id)
}

export interface AlipayAppInput {
  appId: string
  privateKey?: string
  alipayPublicKey?: string
  gateway: string
  /** Empty string clears it. */
  appAuthToken?: string
  /** `key` (default) or `cert` (公钥证书: the three certificates instead of alipayPublicKey). */
  signMode?: 'key' | 'cert'
  appCert?: string
  alipayPublicCert?: string
  alipayRootCert?: string
  charset?: 'utf-8' | 'GBK'
  /** Only `RSA2`; `RSA` (SHA1) is refused. */
  signType?: string
}

/**
 * Sets the merchant's Alipay app. Keys are checked before anything is stored: each must parse, and
 * the Alipay public key must not be the app's own public key (the most common mistake).
 */
export async function updateAlipayApp(
  deps: MerchantDeps & Pick<AppDeps, 'db'>,
  id: string,
  input: AlipayAppInput,
  actor: Actor,
): Promise<MerchantView> {
  const { db } = deps
  const row = await requireRow(deps, id)
  if (input.signType !== undefined && input.signType !== 'RSA2') {
    throw MerchantErrors.signTypeUnsupported(input.signType)
  }
  const certMode = (input.signMode ?? row.alipay_sign_mode) === 'cert'
  const problems: FieldProblem[] = []
  let privatePem: string | undefined
  let publicPem: string | undefined
  if (input.privateKey !== undefined) {
    try {
      privatePem = normalizePrivateKey(input.privateKey)
    } catch {
      problems.push({
        field: 'privateKey',
        message: 'is not an RSA private key (PKCS#8 or PKCS#1, PEM or base64)',
      })
    }
  } else if (!row.alipay_private_key_enc) {
    problems.push({ field: 'privateKey', message: 'is required the first time' })
  }
  if (input.alipayPublicKey !== undefined && !certMode) {
    try {
      publicPem = normalizePublicKey(input.alipayPublicKey)
    } catch {
      problems.push({
        field: 'alipayPublicKey',
        message: 'is not an RSA public key (PEM or base64)',
      })
    }
  } else if (!row.alipay_public_key && !certMode) {
    problems.push({
      field: 'alipayPublicKey',
      message: 'is required the first time (or signMode cert with the three certificates)',
    })
  }
  const currentPrivate =
    privatePem ??
    (row.alipay_private_key_enc
      ? deps.cipher.decrypt(row.alipay_private_key_enc, PRIVATE_KEY_CONTEXT)
      : undefined)
  const certs = checkCertificates(row, deps.cipher, input, currentPrivate, problems)
  publicPem = certs.alipayPublicKey ?? publicPem
  const currentPublic = publicPem ?? row.alipay_public_key ?? undefined
  if (
    currentPrivate &&
    currentPublic &&
    publicKeyFingerprint(publicKeyOf(currentPrivate)) === publicKeyFingerprint(currentPublic)
  ) {
    problems.push({
      field: 'alipayPublicKey',
      message:
        "is the app's own public key; paste the Alipay public key (支付宝公钥) from the open platform instead",
    })
  }
  const gateway = input.gateway.trim()
  if (!['production', 'sandbox'].includes(gateway) && !/^https?:\/\/[^\s/]+/.test(gateway)) {
    problems.push({ field: 'gateway', message: 'must be production, sandbox or a gateway URL' })
  } else if (!['production', 'sandbox'].includes(gateway)) {
    // kaguan posts signed requests to this URL: never to link-local or metadata addresses (SSRF).
    checkUrlAddress('gateway', gateway)
  }
  if (row.public_base_url && isAlipayOwnGateway(gateway)) {
    const reason = internalHostReason(new URL(row.public_base_url).hostname)
    if (reason) {
      problems.push({
        field: 'gateway',
        message: `the public URL ${row.public_base_url} is ${reason}; Alipay cannot reach it. Set a public https URL first`,
      })
    }
  }
  const sharing = (await repo.findByAppId(db, input.appId)).filter((other) => other.id !== id)
  const isv = (m: MerchantRow) => m.alipay_app_auth_token_enc !== null
  const thisIsv = input.appAuthToken !== undefined ? Boolean(input.appAuthToken) : isv(row)
  if (sharing.length && !(thisIsv && sharing.every(isv))) {
    // Two merchants on one app without app_auth_token could not be told apart by Alipay's messages.
    problems.push({
      field: 'appId',
      message: `is already the app of merchant ${sharing[0]!.id}; one app serves several merchants only as an ISV app, each with its own appAuthToken`,
    })
  }
  if (problems.length) {
    throw invalidFields('MERCHANT_ALIPAY_INVALID', problems)
  }

  const changes = {
    alipay_app_id: input.appId,
    alipay_gateway: gateway,
    ...(privatePem
      ? { alipay_private_key_enc: deps.cipher.encrypt(privatePem, PRIVATE_KEY_CONTEXT) }
      : {}),
    ...(publicPem ? { alipay_public_key: publicPem } : {}),
    ...certs.changes,
    ...(input.charset ? { alipay_charset: input.charset } : {}),
    ...(input.appAuthToken !== undefined
      ? {
          alipay_app_auth_token_enc: input.appAuthToken
            ? deps.cipher.encrypt(input.appAuthToken, APP_AUTH_TOKEN_CONTEXT)
            : null,
        }
      : {}),
    updated_at: deps.clock.nowIso(),
  }
  const before = toView(row, deps.cipher).alipay
  await repo.update(db, id, changes)
  const after = await getMerchant(deps, id)
  await recordAudit(deps, {
    merchantId: id,
    ...actor,
    action: 'merchant.alipay.update',
    target: { type: 'merchant', id },
    before,
    after: after.alipay,
  })
  return after
}

/** Checks a public base URL; with Alipay's own gateway it must be https on a public host. */
export function checkPublicBaseUrl(
  value: string,
  gateway: string | null,
): { url: string } | { problem: string } {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    return { problem: 'is not a URL (e.g. https://card.example.com)' }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { problem: 'must be an http(s) URL' }
  }
  if (url.search || url.hash) {
    return { problem: 'must not have a query or fragment' }
  }
  if (isAlipayOwnGateway(gateway)) {
    const reason = internalHostReason(url.hostname)
    if (reason) {
      return {
        problem: `is ${reason}: Alipay's servers cannot reach it. Use the public https address users and Alipay reach (the seed FAQ: localhost/intranet URLs fail)`,
      }
    }
    if (url.protocol !== 'https:') {
      return {
        problem:
          'must be https with the Alipay gateway (Alipay calls only https for notifications and dynamic codes)',
      }
    }
  }
  return { url: url.toString().replace(/\/+$/, '') }
}

export async function updatePublicBaseUrl(
  deps: MerchantDeps & Pick<AppDeps, 'db'>,
  id: string,
  value: string,
  actor: Actor,
): Promise<MerchantView> {
  const { db } = deps
  const row = await requireRow(deps, id)
  const checked = checkPublicBaseUrl(value, row.alipay_gateway)
  if ('problem' in checked) {
    throw invalidFields('MERCHANT_PUBLIC_URL_INVALID', [
      { field: 'publicBaseUrl', message: checked.problem },
    ])
  }
  await repo.update(db, id, { public_base_url: checked.url, updated_at: deps.clock.nowIso() })
  await recordAudit(deps, {
    merchantId: id,
    ...actor,
    action: 'merchant.public_url.update',
    target: { type: 'merchant', id },
    before: { publicBaseUrl: row.public_base_url },
    after: { publicBaseUrl: checked.url },
  })
  return getMerchant(deps, id)
}

export interface CrmInput {
  mode: 'none' | 'crm'
  baseUrl?: string
  token?: string
  publicKey?: string
  strictReplay?: boolean
  memberNoPrefix?: string
  memberNoStyle?: 'random' | 'sequential'
}

export async function updateCrm(
  deps: MerchantDeps & Pick<AppDeps, 'db'>,
  id: string,
  input: CrmInput,
  actor: Actor,
): Promise<MerchantView> {
  const { db } = deps
  const row = await requireRow(deps, id)
  const problems: FieldProblem[] = []
  let baseUrl = row.crm_base_url
  if (input.baseUrl !== undefined) {
    try {
      const u = new URL(input.baseUrl.trim())
      if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        throw new Error('protocol')
      }
      baseUrl = u.toString().replace(/\/+$/, '')
    } catch {
      problems.push({ field: 'baseUrl', message: 'is not an http(s) URL' })
    }
    // kaguan sends the CRM token to this URL: never to link-local or metadata addresses (SSRF).
    if (baseUrl && !problems.some((p) => p.field === 'baseUrl')) {
      checkUrlAddress('baseUrl', baseUrl)
    }
  }
  let publicPem: string | undefined
  if (input.publicKey !== undefined) {
    try {
      publicPem = normalizePublicKey(input.publicKey)
    } catch {
      problems.push({ field: 'publicKey', message: 'is not an RSA public key (PEM or base64)' })
    }
  }
  if (input.mode === 'crm') {
    if (!baseUrl) {
      problems.push({ field: 'baseUrl', message: 'is required in CRM mode' })
    }
    if (input.token === undefined && !row.crm_token_enc) {
      problems.push({ field: 'token', message: 'is required in CRM mode' })
    }
    if (!publicPem && !row.crm_public_key) {
      problems.push({
        field: 'publicKey',
        message: "is required in CRM mode (kaguan verifies the CRM's signed calls with it)",
      })
    }
  }
  if (problems.length) {
    throw invalidFields('MERCHANT_CRM_INVALID', problems)
  }
  const before = toView(row, deps.cipher).crm
  await repo.update(db, id, {
    crm_mode: input.mode,
    crm_base_url: baseUrl,
    ...(input.token !== undefined
      ? { crm_token_enc: deps.cipher.encrypt(input.token, CRM_TOKEN_CONTEXT) }
      : {}),
    ...(publicPem ? { crm_public_key: publicPem } : {}),
    ...(input.strictReplay !== undefined ? { crm_replay_strict: input.strictReplay ? 1 : 0 } : {}),
    ...(input.memberNoPrefix !== undefined ? { member_no_prefix: input.memberNoPrefix } : {}),
    ...(input.memberNoStyle !== undefined ? { member_no_style: input.memberNoStyle } : {}),
    updated_at: deps.clock.nowIso(),
  })
  const after = await getMerchant(deps, id)
  await recordAudit(deps, {
    merchantId: id,
    ...actor,
    action: 'merchant.crm.update',
    target: { type: 'merchant', id },
    before,
    after: after.crm,
  })
  return after
}
