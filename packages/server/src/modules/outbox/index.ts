export { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js'
export type { OutboxSort } from './outbox.repository.js'
export {
  enqueue,
  getOutboxItem,
  listOutbox,
  outboxCounts,
  pageOutbox,
  retryParked,
  type EnqueueCommand,
  outboxDepth,
  type OutboxDepth,
} from './outbox.service.js'
export { OutboxStatus } from './outbox.table.js'
export type { OutboxTable } from './outbox.table.js'
export type { OutboxItem } from './outbox.view.js'
export {
  createOutboxWorker,
  type OutboxCompletion,
  type OutboxEntry,
  type OutboxHandler,
  type OutboxWorker,
} from './outbox.worker.js'
export { notifyOutbox } from './outbox.notify.js'
export { createSharedPacer, type Pacer, type PacerOptions } from './pace.service.js'
