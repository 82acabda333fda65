import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
} from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import forge from 'node-forge'
import { generateRsaKeyPair } from './crypto.js'
import type { Runtime } from './runtime.js'

/**
 * The emulator's own PKI for certificate mode (公钥证书): a root CA (支付宝根证书), the Alipay public
 * certificate (支付宝公钥证书, issued by the root; its key signs cert-mode answers) and the app
 * certificates it issues for the apps a test registers (应用公钥证书). node:crypto reads X.509 but
 * cannot issue it; node-forge issues. Everything is kept in the `kv` table so a file-backed emulator
 * keeps the certificates merchants configured.
 *
 * Built lazily: an emulator whose tests never use cert mode pays nothing.
 */
export interface EmulatorPki {
  rootPem: string
  rootSn: string
  rootKeyPem: string
  /** The certificate cert-mode answers are signed with now. */
  current: AlipayCert
  /** Every Alipay certificate ever issued, by SN (what `alipaycert.download` serves). */
  bySn: Map<string, AlipayCert>
}

export interface AlipayCert {
  sn: string
  pem: string
  key: KeyObject
}

const ROOT_SUBJECT = [
  { shortName: 'C', value: 'CN' },
  { shortName: 'O', value: 'Kaguan Emulator' },
  { shortName: 'OU', value: 'Certification Authority' },
  { shortName: 'CN', value: 'Kaguan Emulator Alipay Root CA' },
]

/** SN as the SDKs compute it: MD5(issuer attributes reversed, `,`-joined + decimal serial). */
export function certSn(pem: string): string {
  const cert = new X509Certificate(pem)
  const principal = cert.issuer
    .split('\n')
    .filter((l) => l !== '')
    .reverse()
    .join(',')
  return createHash('md5')
    .update(principal + BigInt(`0x${cert.serialNumber}`).toString(10), 'utf8')
    .digest('hex')
}

/** The public key (SPKI PEM) of a certificate. */
export function certPublicKey(pem: string): string {
  return new X509Certificate(pem).publicKey.export({ format: 'pem', type: 'spki' }).toString()
}

function serial(): string {
  // Positive, 16 bytes: forge writes the hex as the DER integer.
  return `01${randomBytes(15).toString('hex')}`
}

function issue(options: {
  subjectCn: string
  publicKeyPem: string
  issuerKeyPem: string
  ca: boolean
  validDays: number
  notBefore?: Date
}): string {
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(options.publicKeyPem)
  cert.serialNumber = serial()
  const start = options.notBefore ?? new Date(Date.now() - 60_000)
  cert.validity.notBefore = start
  cert.validity.notAfter = new Date(start.getTime() + options.validDays * 86_400_000)
  const subject = options.ca
    ? ROOT_SUBJECT
    : [
        { shortName: 'C', value: 'CN' },
        { shortName: 'O', value: 'Kaguan Emulator' },
        { shortName: 'CN', value: options.subjectCn },
      ]
  cert.setSubject(subject)
  cert.setIssuer(ROOT_SUBJECT)
  cert.setExtensions(
    options.ca
      ? [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true },
        ],
  )
  cert.sign(forge.pki.privateKeyFromPem(options.issuerKeyPem), forge.md.sha256.create())
  return forge.pki.certificateToPem(cert)
}

function kvGet(rt: Runtime, key: string): string | undefined {
  const row = rt.db.prepare('select value from kv where key = ?').get(key) as
    { value: string } | undefined
  return row?.value
}

function kvSet(rt: Runtime, key: string, value: string): void {
  rt.db.prepare('insert or replace into kv (key, value) values (?, ?)').run(key, value)
}

interface StoredAlipayCert {
  sn: string
  pem: string
  keyPem: string
}

const pkis = new WeakMap<Runtime, EmulatorPki>()

/** The PKI, created on first use. The first Alipay certificate carries the emulator's Alipay key. */
export function pki(rt: Runtime): EmulatorPki {
  const cached = pkis.get(rt)
  if (cached) {
    return cached
  }
  let rootKeyPem = kvGet(rt, 'ca_root_key')
  let rootPem = kvGet(rt, 'ca_root_cert')
  if (rootKeyPem === undefined || rootPem === undefined) {
    const pair = generateRsaKeyPair()
    rootKeyPem = pair.privateKey
    rootPem = issue({
      subjectCn: 'root',
      publicKeyPem: pair.publicKey,
      issuerKeyPem: rootKeyPem,
      ca: true,
      validDays: 3650,
    })
    kvSet(rt, 'ca_root_key', rootKeyPem)
    kvSet(rt, 'ca_root_cert', rootPem)
  }
  const stored = JSON.parse(kvGet(rt, 'alipay_certs') ?? '[]') as StoredAlipayCert[]
  if (stored.length === 0) {
    const keyPem = rt.alipayKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    stored.push(newAlipayCert(rootKeyPem, keyPem, 365))
    kvSet(rt, 'alipay_certs', JSON.stringify(stored))
  }
  const bySn = new Map(
    stored.map((s) => [s.sn, { sn: s.sn, pem: s.pem, key: createPrivateKey(s.keyPem) }]),
  )
  const current = bySn.get(stored[stored.length - 1]!.sn)!
  const made: EmulatorPki = { rootPem, rootSn: certSn(rootPem), rootKeyPem, current, bySn }
  pkis.set(rt, made)
  return made
}

function newAlipayCert(rootKeyPem: string, keyPem: string, validDays: number): StoredAlipayCert {
  const publicKeyPem = createPublicKey(createPrivateKey(keyPem))
    .export({ format: 'pem', type: 'spki' })
    .toString()
  const pem = issue({
    subjectCn: 'Ant Financial (emulated) Alipay public key certificate',
    publicKeyPem,
    issuerKeyPem: rootKeyPem,
    ca: false,
    validDays,
  })
  return { sn: certSn(pem), pem, keyPem }
}

/**
 * Rotates the Alipay certificate (a new key pair, a new certificate under the same root). Cert-mode
 * answers are signed with it from now on; the old one stays downloadable by its SN.
 */
export function rotateAlipayCert(rt: Runtime, validDays = 365): AlipayCert {
  const p = pki(rt)
  const made = newAlipayCert(p.rootKeyPem, generateRsaKeyPair().privateKey, validDays)
  const stored = JSON.parse(kvGet(rt, 'alipay_certs') ?? '[]') as StoredAlipayCert[]
  stored.push(made)
  kvSet(rt, 'alipay_certs', JSON.stringify(stored))
  const cert = { sn: made.sn, pem: made.pem, key: createPrivateKey(made.keyPem) }
  p.bySn.set(cert.sn, cert)
  p.current = cert
  return cert
}

/** Issues an app certificate (应用公钥证书) for the app's public key, as the console does from a CSR. */
export function issueAppCert(
  rt: Runtime,
  appId: string,
  appPublicKey: string,
  validDays = 365,
): { pem: string; sn: string } {
  const p = pki(rt)
  const pem = issue({
    subjectCn: appId,
    publicKeyPem: appPublicKey,
    issuerKeyPem: p.rootKeyPem,
    ca: false,
    validDays,
  })
  return { pem, sn: certSn(pem) }
}
