import { randomInt } from 'node:crypto'
import type { AppDeps } from '../../deps.js'
import type { FieldCipher } from '../../shared/field-crypto.js'
import { offsetOf, type PageRequest } from '../../shared/paging.js'
import * as repo from './members.repository.js'
import type { MemberRow } from './members.table.js'
import { memberCipher, newWrappedDataKey } from './member-data-key.js'
import { CTX, toMember, type Member, type MemberProfile } from './members.view.js'

export type MemberSort = 'createdAt' | 'bizCardNo'

/** Conditions on a member list; every one given must hold. */
export interface MemberFilter {
  mobile?: string
  bizCardNo?: string
  alipayUserId?: string
  /** Members already found by something this module does not store (their cards' numbers). */
  memberIds?: readonly string[]
}

/**
 * A page of the merchant's (active) members, newest first by default. The mobile number is
 * matched through its keyed hash, so only a whole number finds anyone.
 */
export async function pageMembers(
  deps: { cipher: FieldCipher } & Pick<AppDeps, 'db'>,
  merchantId: string,
  filter: MemberFilter,
  request: PageRequest<MemberSort>,
): Promise<{ items: Member[]; total: number }> {
  const { db } = deps
  const { rows, total } = await repo.page(
    db,
    merchantId,
    {
      ...(filter.mobile
        ? { mobileHashes: deps.cipher.lookupHashes(filter.mobile, CTX.mobile) }
        : {}),
      ...(filter.bizCardNo ? { bizCardNo: filter.bizCardNo } : {}),
      ...(filter.alipayUserId ? { alipayUserId: filter.alipayUserId } : {}),
      ...(filter.memberIds ? { memberIds: filter.memberIds } : {}),
    },
    {
      sort: request.sort,
      order: request.order,
      offset: offsetOf(request),
      limit: request.pageSize,
    },
  )
  return { items: rows.map((r) => toMember(r, deps.cipher)), total }
}

export type MembersDeps = Pick<AppDeps, 'clock' | 'ids' | 'cipher'>

/**
 * A profile as stored: sealed under the member's data key (a new one when they have none: a new
 * member, or one stored before data keys, whose fields are all sealed anew), with keyed hashes of
 * mobile and certificate number under the master key so staff can search by them.
 */
function sealedProfile(profile: MemberProfile, master: FieldCipher, wrappedKey: string | null) {
  const dataKey = wrappedKey ?? newWrappedDataKey(master)
  const cipher = memberCipher(master, dataKey)
  const seal = (value: string | undefined, context: string) =>
    value ? cipher.encrypt(value, context) : null
  return {
    data_key_enc: dataKey,
    name_enc: seal(profile.name, CTX.name),
    mobile_enc: seal(profile.mobile, CTX.mobile),
    mobile_hash: profile.mobile ? master.lookupHash(profile.mobile, CTX.mobile) : null,
    cert_no_enc: seal(profile.certNo, CTX.certNo),
    cert_no_hash: profile.certNo
      ? master.lookupHash(profile.certNo.toUpperCase(), CTX.certNo)
      : null,
    gender: seal(profile.gender, CTX.gender),
    birthday: seal(profile.birthday, CTX.birthday),
    erased_at: null,
  }
}

export interface MemberNumbering {
  prefix: string
  style: 'random' | 'sequential'
}

async function issueCardNo(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  numbering: MemberNumbering,
): Promise<string> {
  const { db } = deps
  if (numbering.style === 'sequential') {
    return `${numbering.prefix}${String(await repo.nextCounter(db, merchantId, 'member_no')).padStart(10, '0')}`
  }
  // 16 random digits: unguessable, so a card number alone proves nothing at a till.
  let digits = ''
  for (let i = 0; i < 16; i++) {
    digits += String(randomInt(10))
  }
  return `${numbering.prefix}${digits}`
}

/**
 * The merchant's member for an Alipay user in no-CRM mode: found, or created as `pending` with a
 * new card number. Pending members become members only when their Alipay card opens, so a failed
 * claim leaves no member behind, and a retry reuses the same number.
 */
export async function reserveMember(
  deps: MembersDeps & Pick<AppDeps, 'db'>,
  merchantId: string,
  alipayUserId: string,
  profile: MemberProfile,
  numbering: MemberNumbering,
  openId?: string,
): Promise<Member> {
  const { db } = deps
  const existing = await repo.findByUser(db, merchantId, alipayUserId, openId)
  if (existing) {
    await rememberOpenId(deps, existing, openId)
    return toMember(existing, deps.cipher)
  }
  const now = deps.clock.nowIso()
  for (let attempt = 0; attempt < 5; attempt++) {
    const row: MemberRow = {
      id: deps.ids.next('mbr'),
      merchant_id: merchantId,
      alipay_user_id: alipayUserId,
      alipay_open_id: openId ?? null,
      biz_card_no: await issueCardNo(deps, merchantId, numbering),
      source: 'kaguan',
      status: 'pending',
      ...sealedProfile(profile, deps.cipher, null),
      created_at: now,
      updated_at: now,
    }
    try {
      if (await repo.insertOnce(db, row)) {
        return toMember(row, deps.cipher)
      }
      // Another claim of the same user won the race: use its member.
      return toMember((await repo.findByUser(db, merchantId, alipayUserId, openId))!, deps.cipher)
    } catch (error) {
      // A random card number collided (unique per merchant): draw again.
      if (attempt === 4) {
        throw error
      }
    }
  }
  throw new Error('unreachable')
}

/** Records (or refreshes) the CRM's member for an Alipay user, as a snapshot for the console. */
export async function recordCrmMember(
  deps: MembersDeps & Pick<AppDeps, 'db'>,
  merchantId: string,
  alipayUserId: string,
  bizCardNo: string,
  profile: MemberProfile,
  openId?: string,
): Promise<Member> {
  const { db } = deps
  const existing = await repo.findByUser(db, merchantId, alipayUserId, openId)
  const now = deps.clock.nowIso()
  if (existing) {
    await repo.update(db, existing.id, {
      ...(openId && !existing.alipay_open_id ? { alipay_open_id: openId } : {}),
      biz_card_no: bizCardNo,
      source: 'crm',
      // A member who had their data erased and claims again gives it anew: no longer erased.
      ...sealedProfile(
        { ...toMember(existing, deps.cipher).profile, ...profile },
        deps.cipher,
        existing.erased_at ? null : existing.data_key_enc,
      ),
      updated_at: now,
    })
    return toMember((await repo.findById(db, existing.id))!, deps.cipher)
  }
  const row: MemberRow = {
    id: deps.ids.next('mbr'),
    merchant_id: merchantId,
    alipay_user_id: alipayUserId,
    alipay_open_id: openId ?? null,
    biz_card_no: bizCardNo,
    source: 'crm',
    status: 'pending',
    ...sealedProfile(profile, deps.cipher, null),
    created_at: now,
    updated_at: now,
  }
  if (!(await repo.insertOnce(db, row))) {
    return recordCrmMember(deps, merchantId, alipayUserId, bizCardNo, profile, openId)
  }
  return toMember(row, deps.cipher)
}

/** Keeps the open_id Alipay now gives beside the user_id a member was keyed by. */
async function rememberOpenId(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  member: MemberRow,
  openId: string | undefined,
): Promise<void> {
  if (openId && !member.alipay_open_id && member.alipay_user_id !== openId) {
    await repo.update(deps.db, member.id, {
      alipay_open_id: openId,
      updated_at: deps.clock.nowIso(),
    })
  }
}

/** Makes a pending member a member (its card opened). */
export async function activateMember(
  deps: MembersDeps & Pick<AppDeps, 'db'>,
  memberId: string,
): Promise<void> {
  const { db } = deps
  await repo.update(db, memberId, { status: 'active', updated_at: deps.clock.nowIso() })
}

export async function getMember(
  deps: MembersDeps & Pick<AppDeps, 'db'>,
  id: string,
): Promise<Member | undefined> {
  const { db } = deps
  const row = await repo.findById(db, id)
  return row && toMember(row, deps.cipher)
}

/** A member of the merchant, erased or not; undefined when the id names no member of theirs. */
export async function memberOfMerchant(
  deps: Pick<AppDeps, 'db' | 'cipher'>,
  merchantId: string,
  memberId: string,
): Promise<Member | undefined> {
  const row = await repo.findById(deps.db, memberId)
  return row && row.merchant_id === merchantId ? toMember(row, deps.cipher) : undefined
}

/**
 * Erases a member's personal data on request (PIPL art. 47): their data key is destroyed, which
 * leaves every copy of the sealed fields unreadable, and the fields and search hashes are cleared.
 * The member's number, cards and points ledger stay, so the merchant's sums still add up.
 */
export async function eraseMemberData(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  memberId: string,
): Promise<string> {
  const now = deps.clock.nowIso()
  await repo.update(deps.db, memberId, {
    data_key_enc: null,
    name_enc: null,
    mobile_enc: null,
    mobile_hash: null,
    cert_no_enc: null,
    cert_no_hash: null,
    gender: null,
    birthday: null,
    erased_at: now,
    updated_at: now,
  })
  return now
}
