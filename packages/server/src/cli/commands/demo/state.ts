import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { generateRsaKeyPair } from '../../../shared/rsa-keys.js'

/** The files the demo keeps in the data folder so that a second start reuses the first one's set-up. */
export const DemoFiles = {
  appKey: 'demo-app-key.pem',
  crmKey: 'demo-crm-key.pem',
  crmToken: 'demo-crm-token.txt',
  adminPassword: 'demo-admin-password.txt',
  emulatorDb: 'emulator.sqlite',
  sampleCrmData: 'sample-crm.json',
  info: 'demo.json',
} as const

/**
 * Returns the content of `file`, creating it with `make()` (mode 0600: these are keys and
 * passwords) the first time. `wx` makes a concurrent first start fail loudly instead of two
 * processes silently writing different keys.
 */
export function readOrCreateSecret(
  file: string,
  make: () => string,
): { value: string; created: boolean } {
  if (existsSync(file)) {
    return { value: readFileSync(file, 'utf8').trim(), created: false }
  }
  mkdirSync(dirname(file), { recursive: true })
  const value = make().trim()
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' })
  return { value, created: true }
}

/** The demo app's RSA2 private key (PKCS#8 PEM), generated once per data folder. */
export function demoAppKey(dataDir: string): string {
  return readOrCreateSecret(
    join(dataDir, DemoFiles.appKey),
    () => generateRsaKeyPair().privateKeyPem,
  ).value
}

/** The sample CRM's private key and the token kaguan sends it, generated once per data folder. */
export function demoCrmSecrets(dataDir: string): { privateKeyPem: string; token: string } {
  return {
    privateKeyPem: readOrCreateSecret(
      join(dataDir, DemoFiles.crmKey),
      () => generateRsaKeyPair().privateKeyPem,
    ).value,
    token: readOrCreateSecret(
      join(dataDir, DemoFiles.crmToken),
      () => `demo-${randomBytes(18).toString('base64url')}`,
    ).value,
  }
}

/** A previous run's demo.json, when there is a readable one. */
export function readPreviousInfo(dataDir: string): { templateId?: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, DemoFiles.info), 'utf8')) as unknown
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as { templateId?: string })
      : undefined
  } catch {
    return undefined
  }
}
