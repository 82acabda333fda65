import { generateKeyPairSync } from 'node:crypto'

/** An RSA-2048 key pair as PEM (PKCS#8 private, SPKI public) plus the other forms tests need. */
export interface TestKeyPair {
  privateKey: string
  publicKey: string
  /** PKCS#1 private key as bare base64 (what some consoles show). */
  privateKeyPkcs1Base64: string
  /** SPKI public key as bare base64 (what the Alipay console shows). */
  publicKeyBase64: string
}

/** Generates a test-only key pair (never a production key). */
export function testKeyPair(): TestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPkcs1Base64: privateKey.export({ type: 'pkcs1', format: 'der' }).toString('base64'),
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  }
}

/** Keys shared by a test file: the merchant app's and "Alipay's". */
export const appKeys = testKeyPair()
export const alipayKeys = testKeyPair()
