import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto'

/**
 * An RSA2 (2048-bit) key pair in the formats Alipay's key tool produces: PKCS#8 private and SPKI
 * public, each as PEM and as the bare base64 body that Alipay's open-platform console asks for.
 */
export interface RsaKeyPair {
  privateKeyPem: string
  publicKeyPem: string
  privateKeyBase64: string
  publicKeyBase64: string
  /** sha256 of the public key's DER, hex: shown instead of keys anywhere a key is identified. */
  fingerprint: string
}

export function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  })
  return {
    privateKeyPem: privateKey,
    publicKeyPem: publicKey,
    privateKeyBase64: pemBody(privateKey),
    publicKeyBase64: pemBody(publicKey),
    fingerprint: publicKeyFingerprint(publicKey),
  }
}

/** The base64 between a PEM's armour lines, on one line. */
export function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '')
}

/** sha256 (hex) of an SPKI public key given as PEM or bare base64. */
export function publicKeyFingerprint(key: string): string {
  const pem = key.includes('-----BEGIN')
    ? key
    : `-----BEGIN PUBLIC KEY-----\n${key}\n-----END PUBLIC KEY-----\n`
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('hex')
}
