import { X509Certificate, createHash } from 'node:crypto'
import { AlipayError, AlipayErrorCode } from './errors.js'

/**
 * Certificate mode (公钥证书模式): the three certificates an app is configured with instead of the
 * Alipay public key. All PEM text; the root may be a bundle of several certificates (Alipay's
 * `alipayRootCert.crt` holds an RSA and an SM2 root).
 */
export interface AlipayCertificates {
  /** 应用公钥证书 (appCertPublicKey_<appid>.crt). */
  appCert: string
  /** 支付宝公钥证书 (alipayCertPublicKey_RSA2.crt). */
  alipayPublicCert: string
  /** 支付宝根证书 (alipayRootCert.crt). */
  alipayRootCert: string
}

/** What kaguan shows of one certificate: never the certificate itself. */
export interface CertificateInfo {
  /** The SN as Alipay computes it: MD5 hex of the issuer DN (reversed, `,`-joined) + decimal serial. */
  sn: string
  subject: string
  notBefore: string
  notAfter: string
}

function certError(field: string, msg: string, cause?: unknown): AlipayError {
  return new AlipayError({
    code: AlipayErrorCode.CertInvalid,
    msg: `${field}: ${msg}`,
    retryable: false,
    cause,
  })
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** Every certificate of a PEM text (one or a bundle). */
export function parseCertificates(pem: string, field = 'certificate'): X509Certificate[] {
  const blocks = pem.match(PEM_BLOCK)
  if (!blocks || blocks.length === 0) {
    throw certError(field, 'is not a PEM certificate (-----BEGIN CERTIFICATE-----)')
  }
  return blocks.map((block) => {
    try {
      return new X509Certificate(block)
    } catch (err) {
      throw certError(field, 'is not a readable X.509 certificate', err)
    }
  })
}

/** The first certificate of a PEM text. */
export function parseCertificate(pem: string, field = 'certificate'): X509Certificate {
  return parseCertificates(pem, field)[0]!
}

/**
 * The SN of one certificate as the SDKs compute it (Node `antcertutil.getCertSN`, Java
 * `AntCertificationUtil.getCertSN`): MD5 over the issuer's attributes in reverse order as
 * `SHORT=value` joined by `,` followed by the serial number in decimal.
 */
export function certSn(cert: X509Certificate): string {
  const principal = cert.issuer
    .split('\n')
    .filter((line) => line !== '')
    .reverse()
    .join(',')
  const serial = BigInt(`0x${cert.serialNumber}`).toString(10)
  return createHash('md5')
    .update(principal + serial, 'utf8')
    .digest('hex')
}

/** `alipay_root_cert_sn`: the SNs of the RSA-signed certificates of the root bundle joined by `_`. */
export function rootCertSn(pem: string): string {
  return parseCertificates(pem, 'alipayRootCert')
    .filter((cert) => isRsaSigned(cert))
    .map(certSn)
    .join('_')
}

/**
 * Whether the certificate's signature is an RSA one (OID 1.2.840.113549.1.1.*). Node does not expose
 * the signature algorithm; the public key type of the *issuer* is what signed it, and for a root it
 * is its own key. An SM2 root has an EC key.
 */
function isRsaSigned(cert: X509Certificate): boolean {
  return cert.publicKey.asymmetricKeyType === 'rsa'
}

export function certInfo(cert: X509Certificate): CertificateInfo {
  return {
    sn: certSn(cert),
    subject: cert.subject.split('\n').reverse().join(','),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
  }
}

/** The root's info: its SN is the bundle's (`_`-joined), its dates the earliest RSA root's. */
export function rootCertInfo(pem: string): CertificateInfo {
  const rsa = parseCertificates(pem, 'alipayRootCert').filter(isRsaSigned)
  if (rsa.length === 0) {
    throw certError('alipayRootCert', 'holds no RSA root certificate')
  }
  const first = certInfo(rsa[0]!)
  const notAfter = rsa.map((c) => new Date(c.validTo).getTime()).reduce((a, b) => Math.min(a, b))
  return { ...first, sn: rootCertSn(pem), notAfter: new Date(notAfter).toISOString() }
}

/** The public key of a certificate as SPKI PEM (what verifies Alipay's signatures in cert mode). */
export function certPublicKeyPem(cert: X509Certificate): string {
  return cert.publicKey.export({ format: 'pem', type: 'spki' }).toString()
}

/**
 * Whether `cert` was issued by one of the roots of the bundle, directly or through one intermediate
 * of the bundle, and is within its validity at `now`. Alipay's public certificates are issued by an
 * intermediate CA whose certificate is part of the downloaded content, so the chain is checked on
 * every certificate of `chainPem` (leaf first).
 */
export function chainsToRoot(chainPem: string, rootPem: string, now = new Date()): boolean {
  let chain: X509Certificate[]
  let roots: X509Certificate[]
  try {
    chain = parseCertificates(chainPem)
    roots = parseCertificates(rootPem)
  } catch {
    return false
  }
  const valid = (c: X509Certificate) =>
    new Date(c.validFrom).getTime() <= now.getTime() &&
    now.getTime() <= new Date(c.validTo).getTime()
  const issuedBy = (child: X509Certificate, parent: X509Certificate) =>
    child.checkIssued(parent) && child.verify(parent.publicKey)
  const leaf = chain[0]!
  if (!valid(leaf)) {
    return false
  }
  if (roots.some((root) => issuedBy(leaf, root))) {
    return true
  }
  return chain
    .slice(1)
    .some((mid) => valid(mid) && issuedBy(leaf, mid) && roots.some((root) => issuedBy(mid, root)))
}

/** The SNs and dates of a configured set, checked: each must parse, the Alipay cert must chain to the root. */
export function describeCertificates(certs: AlipayCertificates): {
  appCert: CertificateInfo
  alipayCert: CertificateInfo
  rootCert: CertificateInfo
} {
  const app = parseCertificate(certs.appCert, 'appCert')
  const alipay = parseCertificate(certs.alipayPublicCert, 'alipayPublicCert')
  const root = rootCertInfo(certs.alipayRootCert)
  return { appCert: certInfo(app), alipayCert: certInfo(alipay), rootCert: root }
}
