import { alipayUserOf } from '../../shared/alipay-user.js'
import { handleCardNotification } from './card-events.service.js'
import type { CardsDeps } from './claim.service.js'
import { settleOpenCardResult } from './spi-open.service.js'

const OPENCARD_RESULT = 'alipay.user.opencard.result.notify'

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
  if (message.method === OPENCARD_RESULT) {
    return settleOpenCard(deps, merchantId, message.bizContent)
  }
  const alipayCardNo = field(message.bizContent, 'biz_card_no')
  const reason = field(message.bizContent, 'reason_code')
  return handleCardNotification(deps, merchantId, {
    ...(message.messageId ? { notifyId: message.messageId } : {}),
    type: message.method,
    ...(alipayCardNo ? { alipayCardNo } : {}),
    ...(reason ? { reason } : {}),
  })
}

/**
 * `alipay.user.opencard.result.notify`: the commit (or release) of a 3.1 open the SPI answered.
 * Throws when the message lacks a field or names no open kaguan answered: Alipay sends it again.
 */
async function settleOpenCard(
  deps: CardsDeps,
  merchantId: string,
  biz: unknown,
): Promise<AlipayMessageOutcome> {
  const templateId = field(biz, 'template_id')
  const alipayCardNo = field(biz, 'biz_card_no')
  const externalCardNo = field(biz, 'external_card_no')
  const success = field(biz, 'success')
  if (!templateId || !alipayCardNo || !externalCardNo || !success) {
    throw new Error(
      'open-card result message without template_id, biz_card_no, external_card_no or success',
    )
  }
  const user = alipayUserOf(biz as Record<string, unknown>)
  const settled = await settleOpenCardResult(deps, {
    merchantId,
    templateId,
    alipayCardNo,
    externalCardNo,
    success: success === 'true',
    ...(user ? { user } : {}),
  })
  if (!settled) {
    throw new Error(`no 3.1 open answered for Alipay card ${alipayCardNo}: Alipay will resend`)
  }
  return 'handled'
}
