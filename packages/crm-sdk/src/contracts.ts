/**
 * The wire contracts between kaguan and a merchant CRM (docs/crm-integration.md).
 *
 * Naming trap: `bizCardNo` is the **CRM's** member card number (Alipay: `external_card_no`);
 * `alipayCardNo` is **Alipay's** card number (Alipay: `biz_card_no`).
 */

/** The three endpoints kaguan calls on the CRM (POST, JSON body, header `token`). */
export const CrmPath = {
  OpenCardInfo: '/card/openCardInfo',
  CardChange: '/card/cardChange',
  MdCodeChange: '/card/mdCodeChange',
} as const
export type CrmPath = (typeof CrmPath)[keyof typeof CrmPath]

/** The endpoints the CRM calls on kaguan core (POST, RSA2-signed, all values strings). */
export const CorePath = {
  Update: '/card/update',
  ChangeTemplate: '/card/changeTemplate',
} as const
export type CorePath = (typeof CorePath)[keyof typeof CorePath]

/**
 * `POST /card/openCardInfo`: a user claims a card (no `bizCardNo`: find or register the member),
 * or kaguan asks about an existing member (`bizCardNo` set).
 */
export interface OpenCardInfoRequest {
  /**
   * The user's id in the merchant's Alipay app, always present: the 2088… user_id, or, for an app
   * Alipay has moved to OpenID, the open_id (it may not start with 2088). Key members by it.
   */
  alipayUserId: string
  /** The user's open_id in the app, when Alipay gives one beside the user_id. */
  alipayOpenId?: string
  /** From the open-card form, when the template's form asks for it. */
  name?: string
  mobile?: string
  certNo?: string
  gender?: string
  /** The Alipay template id of the claim link. */
  templateId?: string
  /** The `out_string` of the claim link (e.g. a channel or shop code). */
  outString?: string
  /** Set only when kaguan asks about an existing member. */
  bizCardNo?: string
}

/** The CRM's answer to `/card/openCardInfo`. */
export interface OpenCardInfoAnswer {
  /** Required: the CRM's member card number (shown as the card's code; used by every later call). */
  bizCardNo: string
  /** Optional display card number (defaults to `bizCardNo` on kaguan's side). */
  cardNo?: string
  /** Required: the member's points, an integer (0 when none); a string is accepted. */
  point: number | string
  /** The member's level, e.g. `"VIP1"`. */
  level?: string
  /** The member's balance, e.g. `"12.50"`. */
  balance?: number | string
  /** Set only when the member's level belongs to another template than the claim link's. */
  templateId?: string
}

/** The two kinds of card change kaguan reports. */
export const CardChangeType = { Add: 'ADD', Del: 'DEL' } as const
export type CardChangeType = (typeof CardChangeType)[keyof typeof CardChangeType]

/** `POST /card/cardChange`: an Alipay card was opened (`ADD`) or deleted by the user (`DEL`). Answer `true`. */
export interface CardChangeRequest {
  type: CardChangeType
  templateId: string
  /** As in openCardInfo: user_id, or open_id for an OpenID app. */
  alipayUserId: string
  alipayOpenId?: string
  /** The CRM's card number, as answered by openCardInfo. */
  bizCardNo: string
  /** Alipay's card number. */
  alipayCardNo: string
}

/** `POST /card/mdCodeChange`: Alipay wants a fresh merchant dynamic code for a member. */
export interface MdCodeChangeRequest {
  appId: string
  templateId: string
  alipayUserId: string
  /** Lifetime configured in kaguan, in seconds (120 when kaguan sends none). */
  expireTime: number
}

/** The CRM's answer to `/card/mdCodeChange`. */
export interface MdCodeChangeAnswer {
  /** Echo of the request's user (defaults to it when omitted). */
  alipayUserId?: string
  /** The code shown on the card (bar/QR code). */
  codeValue: string
  /** When the code expires: a Date, or text `yyyy-MM-dd HH:mm:ss` in China time (UTC+8). */
  codeExpire: Date | string
}

/** Body of `POST /card/update` (CRM → kaguan). */
export interface UpdateCardParams {
  templateId: string
  bizCardNo: string
  /** The member's new point total (an integer). */
  point: number | string
  changeReason: string
  level?: string
  balance?: number | string
}

/** Body of `POST /card/changeTemplate` (CRM → kaguan). */
export interface ChangeTemplateParams {
  templateId: string
  bizCardNo: string
  targetTemplateId: string
  changeReason: string
}

/** kaguan core's answer: `{"status":"OK"}` or `{"status":"FAIL","errmsg","errcode"}`. */
export type CoreResult = { status: 'OK' } | { status: 'FAIL'; errmsg: string; errcode?: string }
