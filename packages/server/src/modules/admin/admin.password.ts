import { randomBytes } from 'node:crypto'
import { hash, verify } from '@node-rs/argon2'
import type { FieldProblem } from '../../shared/errors.js'

/**
 * argon2id (the library's default algorithm) with OWASP's minimum: 19 MiB, 2 passes, 1 lane. A
 * login costs tens of milliseconds, which is fine for a console and slow for a guesser.
 */
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export const PASSWORD_MIN_LENGTH = 10
// Hashing cost grows with input: a cap keeps a megabyte "password" from being a cheap DoS.
export const PASSWORD_MAX_LENGTH = 256

/** Problems with a proposed password, empty when it is acceptable. */
export function passwordProblems(
  password: string,
  username: string,
  field = 'password',
): FieldProblem[] {
  const problems: FieldProblem[] = []
  if ([...password].length < PASSWORD_MIN_LENGTH) {
    problems.push({ field, message: `must be at least ${PASSWORD_MIN_LENGTH} characters` })
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    problems.push({ field, message: `must be at most ${PASSWORD_MAX_LENGTH} characters` })
  }
  if (password.trim().toLowerCase() === username.trim().toLowerCase()) {
    problems.push({ field, message: 'must not be the username' })
  }
  return problems
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS)
}

/** False for a wrong password and for a malformed stored hash (a hand-edited row), never throws. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH) {
    return false
  }
  try {
    return await verify(passwordHash, password)
  } catch {
    return false
  }
}

let dummy: Promise<string> | undefined

/**
 * Verifies against a hash of a random password, so that an unknown username costs as much time as
 * a wrong password and the response time does not reveal which usernames exist.
 */
export async function burnVerify(password: string): Promise<void> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'))
  await verifyPassword(await dummy, password)
}
