/** Outbox topic: tell the merchant's CRM a card was added or deleted (`/card/cardChange`). */
export const CARD_CHANGE_TOPIC = 'crm.cardChange'
/** Outbox topic: push a card's latest state to Alipay (`alipay.marketing.card.update`). */
export const CARD_PUSH_TOPIC = 'alipay.cardPush'

export interface CardChangePayload {
  type: 'ADD' | 'DEL'
  templateId: string
  /** The user's id in the app: user_id, or open_id for an app that only gets that. */
  alipayUserId: string
  /** The open_id, when kaguan has it. */
  alipayOpenId?: string
  bizCardNo: string
  alipayCardNo: string
}

export interface CardPushPayload {
  cardId: string
}
