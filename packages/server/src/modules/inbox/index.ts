export {
  acceptOnce,
  forgetBefore,
  forgetMessage,
  previousResult,
  recordResult,
} from './inbox.service.js'
export type { InboundMessagesTable } from './inbox.table.js'
