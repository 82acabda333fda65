/**
 * Wakes this process's outbox workers: the write path calls {@link notifyOutbox} once its
 * transaction has committed, so a delivery starts at once instead of at the next poll (the poll
 * stays as the fallback, and is what other processes on the database rely on).
 */
type Listener = () => void

const listeners = new Set<Listener>()

/** Tell the workers of this process that new entries were committed. Cheap; never throws. */
export function notifyOutbox(): void {
  for (const listener of listeners) {
    try {
      listener()
    } catch {
      // A listener's bug must not fail the write that already committed.
    }
  }
}

/** Subscribes a worker; returns the unsubscribe. */
export function onOutboxNotify(listener: Listener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
