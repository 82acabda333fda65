import { handleCardNotification } from './card-events.service.js'
import type { CardsDeps } from './claim.service.js'

/**
 * One message of Alipay's message service (消息服务), already verified, whichever transport brought
 * it: the HTTP app gateway (`msg_method` + `biz_content`, id `notify_id`) or the long connection
 * (`msgApi` + `content`, id `x-msgId`). Both call this, so the handling after transport is one path.
 */
export interface AlipayServiceMessage {
  /** The sender's id of the message: the same on every redelivery; the inbox dedupes by it. */
  messageId: string | undefined
  /** `msg_method` / `msgApi`, e.g. `alipay.user.opencard.result.notify`. */
  method: string
  bizContent: unknown
}

export type AlipayMessageOutcome = 'handled' | 'ignored'

function field(biz: unknown, key: string): string | undefined {
  if (typeof biz !== 'object' || biz === null) {
    return undefined
  }
  const value = (biz as Record<string, unknown>)[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * Handles a message once (durably: when this resolves the effect is committed, so the transport may
 * acknowledge it); a redelivered message id changes nothing. Throws when the handling failed: the
 * transport answers fail / acks FAIL and Alipay sends it again.
 */
export async function handleAlipayMessage(
  deps: CardsDeps,
  merchantId: string,
  message: AlipayServiceMessage,
): Promise<AlipayMessageOutcome> {
  const alipayCardNo = field(message.bizContent, 'biz_card_no')
  const reason = field(message.bizContent, 'reason_code')
  return handleCardNotification(deps, merchantId, {
    ...(message.messageId ? { notifyId: message.messageId } : {}),
    type: message.method,
    ...(alipayCardNo ? { alipayCardNo } : {}),
    ...(reason ? { reason } : {}),
  })
}
