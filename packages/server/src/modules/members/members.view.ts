import type { FieldCipher } from '../../shared/field-crypto.js'
import { maskCertNo, maskMobile, maskName } from '../../shared/mask.js'
import type { MemberRow } from './members.table.js'

/** What the open-card form gave us (already mapped from Alipay's field names). */
export interface MemberProfile {
  name?: string
  mobile?: string
  certNo?: string
  gender?: string
  birthday?: string
}

/** A member as the admin API shows it: personal data decrypted for staff, masked in `masked`. */
export interface Member {
  id: string
  merchantId: string
  alipayUserId: string
  bizCardNo: string
  source: 'kaguan' | 'crm'
  profile: MemberProfile
  masked: MemberProfile
  createdAt: string
}

/** Encryption contexts of the personal fields: a value encrypted for one never decrypts as another. */
export const CTX = {
  name: 'members.name',
  mobile: 'members.mobile',
  certNo: 'members.cert_no',
} as const

/** A stored member as the admin API shows it. */
export function toMember(row: MemberRow, cipher: FieldCipher): Member {
  const profile: MemberProfile = {
    ...(row.name_enc ? { name: cipher.decrypt(row.name_enc, CTX.name) } : {}),
    ...(row.mobile_enc ? { mobile: cipher.decrypt(row.mobile_enc, CTX.mobile) } : {}),
    ...(row.cert_no_enc ? { certNo: cipher.decrypt(row.cert_no_enc, CTX.certNo) } : {}),
    ...(row.gender ? { gender: row.gender } : {}),
    ...(row.birthday ? { birthday: row.birthday } : {}),
  }
  return {
    id: row.id,
    merchantId: row.merchant_id,
    alipayUserId: row.alipay_user_id,
    bizCardNo: row.biz_card_no,
    source: row.source,
    profile,
    masked: {
      ...(profile.name ? { name: maskName(profile.name) } : {}),
      ...(profile.mobile ? { mobile: maskMobile(profile.mobile) } : {}),
      ...(profile.certNo ? { certNo: maskCertNo(profile.certNo) } : {}),
      ...(profile.gender ? { gender: profile.gender } : {}),
    },
    createdAt: row.created_at,
  }
}
