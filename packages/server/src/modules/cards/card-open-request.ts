import type { CardOpen } from '@kaguan/alipay'
import type { TemplateSpec } from '@kaguan/contracts'
import { isUserId } from '../../shared/alipay-user.js'
import { chinaTime } from '../../shared/china-time.js'
import type { MemberProfile } from '../members/index.js'

/** What the member resolution answered: the card's number and its opening state. */
export interface MemberAnswer {
  bizCardNo: string
  point: number
  level?: string
  balance?: string
}

export interface CardOpenInput {
  /** The spec of the template the card opens from (the CRM may have named another). */
  spec: TemplateSpec
  alipayTemplateId: string
  member: MemberAnswer
  /** The user's key in the app (user_id, or open_id for an OpenID-only app). */
  alipayUserId: string
  alipayOpenId?: string
  profile: MemberProfile
  /** How many cards the user had with the merchant before this one. */
  generation: number
  now: Date
  outString?: string
}

/** `alipay.marketing.card.open`'s body; the dates are always set, the stored card repeats them. */
export type CardOpenRequest = CardOpen & {
  card_ext_info: CardOpen['card_ext_info'] & { open_date: string; valid_date: string }
}

/** Alipay's open_card_channel takes a short word; any other out_string stays with kaguan only. */
const SAFE_CHANNEL = /^\w{1,64}$/

/** The card's end of validity by the template's rule, in China time as Alipay reads it. */
export function validDate(spec: TemplateSpec, now: Date): string {
  const v = spec.basic.validity
  if (v.type === 'permanent') {
    return '2099-12-31 23:59:59'
  }
  if (v.type === 'fixedEnd') {
    return `${v.endDate} 23:59:59`
  }
  return chinaTime(new Date(now.getTime() + v.days * 86_400_000))
}

/**
 * The `alipay.marketing.card.open` request for a resolved member; no I/O.
 *
 * out_serial_no is user + template + generation so that Alipay answers a repeated open (a retried
 * callback) with the same card, while a user who deleted the card and claims again gets a new one.
 */
export function toCardOpenRequest(input: CardOpenInput): CardOpenRequest {
  const { alipayTemplateId, member, alipayUserId: userId, profile, outString } = input
  return {
    out_serial_no: `${alipayTemplateId}_${userId}_${input.generation}`,
    card_template_id: alipayTemplateId,
    // An OpenID app names the user by open_id; user_uni_id only takes a 2088… user_id.
    card_user_info:
      !isUserId(userId) && input.alipayOpenId === userId
        ? { user_uni_id_type: 'UID', open_id: userId }
        : { user_uni_id: userId, user_uni_id_type: 'UID' },
    card_ext_info: {
      external_card_no: member.bizCardNo,
      open_date: chinaTime(input.now),
      valid_date: validDate(input.spec, input.now),
      point: String(member.point),
      ...(member.level !== undefined ? { level: member.level } : {}),
      ...(member.balance !== undefined ? { balance: member.balance } : {}),
    },
    // Alipay's own field names: cell for the mobile, gende (sic) for the gender, birth.
    member_ext_info: {
      ...(profile.name ? { name: profile.name } : {}),
      ...(profile.mobile ? { cell: profile.mobile } : {}),
      ...(profile.gender ? { gende: profile.gender } : {}),
      ...(profile.birthday ? { birth: profile.birthday } : {}),
    },
    ...(outString && SAFE_CHANNEL.test(outString) ? { open_card_channel: outString } : {}),
  }
}
