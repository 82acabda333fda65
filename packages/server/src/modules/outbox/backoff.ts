/**
 * Exponential backoff with full jitter: attempt n waits a random time in [base·2^(n-1)/2, base·2^(n-1)],
 * capped, so that many entries failing together (Alipay down) do not retry in lock step.
 */
export interface BackoffPolicy {
  baseMs: number
  maxMs: number
  /** After this many attempts an entry is parked for the operator. */
  maxAttempts: number
}

export const defaultBackoff: BackoffPolicy = { baseMs: 2_000, maxMs: 15 * 60_000, maxAttempts: 12 }

export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
