import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Absolute path of a file in test/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
}

/** The repository root (for docs/). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** The committed TEST-ONLY key pair the vectors are signed with. */
export const testKeys = {
  privateKey: readFileSync(fixturePath('crm-test-private.pem'), 'utf8'),
  publicKey: readFileSync(fixturePath('crm-test-public.pem'), 'utf8'),
}

/** One signature test vector (test/fixtures/sign-vectors.json). */
export interface SignVector {
  id: string
  description: string
  path?: string
  params: Record<string, string | null>
  canonical: string
  sign: string
}

/** The committed signature test vectors. */
export const signVectors = (
  JSON.parse(readFileSync(fixturePath('sign-vectors.json'), 'utf8')) as { vectors: SignVector[] }
).vectors
