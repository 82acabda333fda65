import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { generateMasterKey } from '../../shared/field-crypto.js'
import { generateRsaKeyPair } from '../../shared/rsa-keys.js'

/** Prints a new master key; redirect it to a file and point KAGUAN_MASTER_KEY_FILE at it. */
export function runKeysMaster(_opts: object): number {
  process.stdout.write(`${generateMasterKey()}\n`)
  return 0
}

/**
 * Creates an RSA2 key pair. With --out, writes app_private_key.pem (PKCS#8), app_public_key.pem
 * (SPKI) and the bare base64 the Alipay console asks for; the private key file is mode 0600.
 */
export function runKeysGen(opts: { out?: string }): number {
  const pair = generateRsaKeyPair()
  if (!opts.out) {
    process.stdout.write(
      `${pair.privateKeyPem}${pair.publicKeyPem}\n# public key for the Alipay console (应用公钥):\n${pair.publicKeyBase64}\n# fingerprint (sha256): ${pair.fingerprint}\n`,
    )
    return 0
  }
  const dir = resolve(opts.out)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'app_private_key.pem'), pair.privateKeyPem, { mode: 0o600 })
  writeFileSync(join(dir, 'app_public_key.pem'), pair.publicKeyPem)
  writeFileSync(join(dir, 'app_private_key.txt'), `${pair.privateKeyBase64}\n`, { mode: 0o600 })
  writeFileSync(join(dir, 'app_public_key.txt'), `${pair.publicKeyBase64}\n`)
  process.stdout.write(
    `wrote ${dir}/app_private_key.pem (PKCS#8, keep secret), app_public_key.pem (SPKI),\n` +
      `and their bare base64 in app_private_key.txt / app_public_key.txt.\n` +
      `Paste app_public_key.txt into the Alipay open platform (应用公钥). Fingerprint: ${pair.fingerprint}\n`,
  )
  return 0
}
