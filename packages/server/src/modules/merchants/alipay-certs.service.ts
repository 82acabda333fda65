import {
  type AlipayCertificates,
  certPublicKeyPem,
  chainsToRoot,
  describeCertificates,
  parseCertificate,
  publicKeyFingerprint,
  publicKeyOf,
} from '@kaguan/alipay'
import type { AppDeps } from '../../deps.js'
import type { FieldProblem } from '../../shared/errors.js'
import type { FieldCipher } from '../../shared/field-crypto.js'
import { recordAudit } from '../audit/index.js'
import * as repo from './merchants.repository.js'
import type { MerchantRow, MerchantUpdate } from './merchants.table.js'

/**
 * Certificate mode (公钥证书) of a merchant's Alipay app: the three certificates, stored
 * field-encrypted like the private key; their SNs and dates for the admin view, the console banner,
 * `kaguan config check` and the expiry metric; and the rotated Alipay certificate the client
 * downloaded, stored so the next client starts from it.
 */
export const APP_CERT_CONTEXT = 'merchants.alipay_app_cert'
export const ALIPAY_CERT_CONTEXT = 'merchants.alipay_public_cert'
export const ROOT_CERT_CONTEXT = 'merchants.alipay_root_cert'

export interface CertInput {
  signMode?: 'key' | 'cert' | undefined
  appCert?: string | undefined
  alipayPublicCert?: string | undefined
  alipayRootCert?: string | undefined
}

/** The stored certificates, decrypted; undefined in key mode or when incomplete. */
export function certificatesOf(
  row: MerchantRow,
  cipher: FieldCipher,
): AlipayCertificates | undefined {
  if (
    row.alipay_sign_mode !== 'cert' ||
    !row.alipay_app_cert_enc ||
    !row.alipay_public_cert_enc ||
    !row.alipay_root_cert_enc
  ) {
    return undefined
  }
  return {
    appCert: cipher.decrypt(row.alipay_app_cert_enc, APP_CERT_CONTEXT),
    alipayPublicCert: cipher.decrypt(row.alipay_public_cert_enc, ALIPAY_CERT_CONTEXT),
    alipayRootCert: cipher.decrypt(row.alipay_root_cert_enc, ROOT_CERT_CONTEXT),
  }
}

export interface CertificatesView {
  appCert: CertView
  alipayCert: CertView
  rootCert: CertView
  expiresAt: string
  expiresSoon: boolean
}
interface CertView {
  sn: string
  subject: string
  notBefore: string
  notAfter: string
}

/** SNs and dates of the stored certificates (null in key mode or when unreadable). */
export function certificatesView(
  row: MerchantRow,
  cipher: FieldCipher,
  warningDays: number,
  nowMs: number,
): CertificatesView | null {
  const certs = certificatesOf(row, cipher)
  if (!certs) {
    return null
  }
  try {
    const info = describeCertificates(certs)
    const expiresAt = earliest(info)
    return {
      ...info,
      expiresAt,
      expiresSoon: Date.parse(expiresAt) - nowMs <= warningDays * 86_400_000,
    }
  } catch {
    return null
  }
}

function earliest(info: ReturnType<typeof describeCertificates>): string {
  return [info.appCert, info.alipayCert, info.rootCert]
    .map((c) => c.notAfter)
    .reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b))
}

/**
 * Checks the cert-mode part of an app update and returns the columns to write. In cert mode all
 * three certificates must be there (given now or stored), readable, the Alipay certificate issued
 * under the root, and the app certificate the one of the private key. The Alipay certificate's key
 * is also written as `alipay_public_key`: Alipay's notifications to a cert-mode app are verified
 * with it.
 */
export function checkCertificates(
  row: MerchantRow,
  cipher: FieldCipher,
  input: CertInput,
  privateKey: string | undefined,
  problems: FieldProblem[],
): { changes: MerchantUpdate; alipayPublicKey?: string } {
  const mode = input.signMode ?? row.alipay_sign_mode
  if (mode !== 'cert') {
    return { changes: input.signMode ? { alipay_sign_mode: 'key' } : {} }
  }
  const stored = {
    appCert: row.alipay_app_cert_enc
      ? cipher.decrypt(row.alipay_app_cert_enc, APP_CERT_CONTEXT)
      : undefined,
    alipayPublicCert: row.alipay_public_cert_enc
      ? cipher.decrypt(row.alipay_public_cert_enc, ALIPAY_CERT_CONTEXT)
      : undefined,
    alipayRootCert: row.alipay_root_cert_enc
      ? cipher.decrypt(row.alipay_root_cert_enc, ROOT_CERT_CONTEXT)
      : undefined,
  }
  const certs = {
    appCert: input.appCert ?? stored.appCert,
    alipayPublicCert: input.alipayPublicCert ?? stored.alipayPublicCert,
    alipayRootCert: input.alipayRootCert ?? stored.alipayRootCert,
  }
  const before = problems.length
  for (const field of ['appCert', 'alipayPublicCert', 'alipayRootCert'] as const) {
    const pem = certs[field]
    if (!pem) {
      problems.push({ field, message: 'is required in certificate mode (signMode cert)' })
      continue
    }
    try {
      parseCertificate(pem, field)
    } catch {
      problems.push({
        field,
        message: 'is not a PEM X.509 certificate (-----BEGIN CERTIFICATE-----)',
      })
    }
  }
  if (problems.length > before) {
    return { changes: {} }
  }
  const full = certs as AlipayCertificates
  let info: ReturnType<typeof describeCertificates>
  try {
    info = describeCertificates(full)
  } catch (err) {
    problems.push({
      field: 'alipayRootCert',
      message: err instanceof Error ? err.message : 'unreadable',
    })
    return { changes: {} }
  }
  const alipayCert = parseCertificate(full.alipayPublicCert)
  if (!chainsToRoot(full.alipayPublicCert, full.alipayRootCert, new Date(alipayCert.validFrom))) {
    problems.push({
      field: 'alipayPublicCert',
      message: 'is not issued under alipayRootCert (支付宝根证书); download both from the same app',
    })
  }
  const appKey = certPublicKeyPem(parseCertificate(full.appCert))
  if (
    privateKey &&
    publicKeyFingerprint(appKey) !== publicKeyFingerprint(publicKeyOf(privateKey))
  ) {
    problems.push({
      field: 'appCert',
      message:
        "is not the certificate of privateKey (应用公钥证书 must be issued for this app's key)",
    })
  }
  const alipayPublicKey = certPublicKeyPem(alipayCert)
  return {
    alipayPublicKey,
    changes: {
      alipay_sign_mode: 'cert',
      alipay_app_cert_enc: cipher.encrypt(full.appCert, APP_CERT_CONTEXT),
      alipay_public_cert_enc: cipher.encrypt(full.alipayPublicCert, ALIPAY_CERT_CONTEXT),
      alipay_root_cert_enc: cipher.encrypt(full.alipayRootCert, ROOT_CERT_CONTEXT),
      alipay_cert_expires_at: earliest(info),
    },
  }
}

/**
 * Stores the Alipay certificate the client downloaded after a rotation (already checked to chain to
 * the stored root). Its key becomes `alipay_public_key` too. Audited; nothing secret is logged.
 */
export async function storeRotatedAlipayCert(
  deps: Pick<AppDeps, 'db' | 'cipher' | 'clock' | 'ids'>,
  merchantId: string,
  rotated: { sn: string; alipayPublicCert: string },
): Promise<void> {
  const row = await repo.findById(deps.db, merchantId)
  const certs = row ? certificatesOf(row, deps.cipher) : undefined
  if (!row || !certs) {
    return
  }
  const next = { ...certs, alipayPublicCert: rotated.alipayPublicCert }
  const info = describeCertificates(next)
  await repo.update(deps.db, merchantId, {
    alipay_public_cert_enc: deps.cipher.encrypt(rotated.alipayPublicCert, ALIPAY_CERT_CONTEXT),
    alipay_public_key: certPublicKeyPem(parseCertificate(rotated.alipayPublicCert)),
    alipay_cert_expires_at: earliest(info),
    updated_at: deps.clock.nowIso(),
  })
  await recordAudit(deps, {
    merchantId,
    actor: 'system:alipay-cert-rotation',
    action: 'merchant.alipay.cert_rotated',
    target: { type: 'merchant', id: merchantId },
    after: { alipayCertSn: rotated.sn, notAfter: info.alipayCert.notAfter },
  })
}

/** Every cert-mode merchant's certificates' expiry, for the metric and `kaguan config check`. */
export async function certificateExpiries(
  deps: Pick<AppDeps, 'db' | 'cipher'>,
): Promise<
  { merchantId: string; cert: 'app' | 'alipay' | 'root'; sn: string; notAfter: string }[]
> {
  const out: {
    merchantId: string
    cert: 'app' | 'alipay' | 'root'
    sn: string
    notAfter: string
  }[] = []
  for (const row of await repo.listCertMode(deps.db)) {
    const certs = certificatesOf(row, deps.cipher)
    if (!certs) {
      continue
    }
    try {
      const info = describeCertificates(certs)
      out.push(
        { merchantId: row.id, cert: 'app', sn: info.appCert.sn, notAfter: info.appCert.notAfter },
        {
          merchantId: row.id,
          cert: 'alipay',
          sn: info.alipayCert.sn,
          notAfter: info.alipayCert.notAfter,
        },
        {
          merchantId: row.id,
          cert: 'root',
          sn: info.rootCert.sn,
          notAfter: info.rootCert.notAfter,
        },
      )
    } catch {
      // An unreadable stored certificate is reported by the admin view (certificates: null).
    }
  }
  return out
}

/** Per cert-mode merchant, when its first certificate expires (no decryption: the metric reads it). */
export async function certExpiryFigures(
  deps: Pick<AppDeps, 'db'>,
): Promise<{ merchantId: string; expiresAt: string }[]> {
  return (await repo.certExpiries(deps.db))
    .filter((r) => r.alipay_cert_expires_at !== null)
    .map((r) => ({ merchantId: r.id, expiresAt: r.alipay_cert_expires_at as string }))
}
