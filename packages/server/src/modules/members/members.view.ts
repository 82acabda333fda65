import type { FieldCipher } from '../../shared/field-crypto.js'
import { maskCertNo, maskMobile, maskName } from '../../shared/mask.js'
import { memberCipher } from './member-data-key.js'
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
  /** When the personal data was erased on request; the profile is empty since. */
  erasedAt?: string
  createdAt: string
}

/** Encryption contexts of the personal fields: a value encrypted for one never decrypts as another. */
export const CTX = {
  name: 'members.name',
  mobile: 'members.mobile',
  certNo: 'members.cert_no',
  gender: 'members.gender',
  birthday: 'members.birthday',
} as const

/** A stored member as the admin API shows it. */
export function toMember(row: MemberRow, master: FieldCipher): Member {
  const profile = profileOf(row, master)
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
    ...(row.erased_at ? { erasedAt: row.erased_at } : {}),
    createdAt: row.created_at,
  }
}

const PLAIN_BEFORE_DATA_KEYS = new Set<string>([CTX.gender, CTX.birthday])

/**
 * The personal fields of a stored member, decrypted. Gender and birthday are sealed like the
 * others under a member data key; members stored before data keys keep them in clear.
 */
export function profileOf(row: MemberRow, master: FieldCipher): MemberProfile {
  const cipher = memberCipher(master, row.data_key_enc)
  const sealed = row.data_key_enc !== null
  const open = (value: string | null, context: string) =>
    value === null
      ? undefined
      : !sealed && PLAIN_BEFORE_DATA_KEYS.has(context)
        ? value
        : cipher.decrypt(value, context)
  const fields: [keyof MemberProfile, string | null, string][] = [
    ['name', row.name_enc, CTX.name],
    ['mobile', row.mobile_enc, CTX.mobile],
    ['certNo', row.cert_no_enc, CTX.certNo],
    ['gender', row.gender, CTX.gender],
    ['birthday', row.birthday, CTX.birthday],
  ]
  const profile: MemberProfile = {}
  for (const [key, value, context] of fields) {
    const clear = open(value, context)
    if (clear) {
      profile[key] = clear
    }
  }
  return profile
}
