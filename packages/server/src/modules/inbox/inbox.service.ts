import type { AppDeps } from '../../deps.js'
import * as repo from './inbox.repository.js'

/**
 * Inbound-message dedupe (DESIGN.md: "every inbound message is deduplicated by its id"). Call
 * `acceptOnce` inside the transaction that acts on the message: when the transaction rolls back the
 * id is not recorded, so a retry of a message that failed is processed again.
 */
export async function acceptOnce(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  message: { source: string; messageId: string; merchantId?: string | null },
): Promise<boolean> {
  const { db, clock } = deps
  return repo.insertOnce(db, {
    source: message.source,
    message_id: message.messageId,
    merchant_id: message.merchantId ?? null,
    received_at: clock.nowIso(),
    result: null,
  })
}

/** Stores what was answered for a message, so a duplicate can get the same answer. */
export function recordResult(
  deps: Pick<AppDeps, 'db'>,
  source: string,
  messageId: string,
  result: string,
): Promise<void> {
  const { db } = deps
  return repo.setResult(db, source, messageId, result)
}

export async function previousResult(
  deps: Pick<AppDeps, 'db'>,
  source: string,
  messageId: string,
): Promise<string | null | undefined> {
  const { db } = deps
  const row = await repo.find(db, source, messageId)
  return row ? row.result : undefined
}

/** Forgets ids older than `before` (e.g. CRM nonces past the replay window). */
export function forgetBefore(
  deps: Pick<AppDeps, 'db'>,
  source: string,
  before: string,
): Promise<number> {
  const { db } = deps
  return repo.deleteOlderThan(db, source, before)
}

/** Forgets one message id, so the same message may be processed again (its processing failed). */
export function forgetMessage(
  deps: Pick<AppDeps, 'db'>,
  source: string,
  messageId: string,
): Promise<void> {
  const { db } = deps
  return repo.remove(db, source, messageId)
}
