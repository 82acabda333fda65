import { randomInt } from 'node:crypto'
import type { AppDeps } from '../../deps.js'
import type { FieldCipher } from '../../shared/field-crypto.js'
import { offsetOf, type PageRequest } from '../../shared/paging.js'
import * as repo from './members.repository.js'
import type { MemberRow } from './members.table.js'
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

function encryptedProfile(profile: MemberProfile, cipher: FieldCipher) {
  return {
    name_enc: profile.name ? cipher.encrypt(profile.name, CTX.name) : null,
    mobile_enc: profile.mobile ? cipher.encrypt(profile.mobile, CTX.mobile) : null,
    mobile_hash: profile.mobile ? cipher.lookupHash(profile.mobile, CTX.mobile) : null,
    cert_no_enc: profile.certNo ? cipher.encrypt(profile.certNo, CTX.certNo) : null,
    cert_no_hash: profile.certNo
      ? cipher.lookupHash(profile.certNo.toUpperCase(), CTX.certNo)
      : null,
    gender: profile.gender ?? null,
    birthday: profile.birthday ?? null,
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
): Promise<Member> {
  const { db } = deps
  const existing = await repo.findByUser(db, merchantId, alipayUserId)
  if (existing) {
    return toMember(existing, deps.cipher)
  }
  const now = deps.clock.nowIso()
  for (let attempt = 0; attempt < 5; attempt++) {
    const row: MemberRow = {
      id: deps.ids.next('mbr'),
      merchant_id: merchantId,
      alipay_user_id: alipayUserId,
      biz_card_no: await issueCardNo(deps, merchantId, numbering),
      source: 'kaguan',
      status: 'pending',
      ...encryptedProfile(profile, deps.cipher),
      created_at: now,
      updated_at: now,
    }
    try {
      if (await repo.insertOnce(db, row)) {
        return toMember(row, deps.cipher)
      }
      // Another claim of the same user won the race: use its member.
      return toMember((await repo.findByUser(db, merchantId, alipayUserId))!, deps.cipher)
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
): Promise<Member> {
  const { db } = deps
  const existing = await repo.findByUser(db, merchantId, alipayUserId)
  const now = deps.clock.nowIso()
  if (existing) {
    await repo.update(db, existing.id, {
      biz_card_no: bizCardNo,
      source: 'crm',
      ...encryptedProfile({ ...toMember(existing, deps.cipher).profile, ...profile }, deps.cipher),
      updated_at: now,
    })
    return toMember((await repo.findById(db, existing.id))!, deps.cipher)
  }
  const row: MemberRow = {
    id: deps.ids.next('mbr'),
    merchant_id: merchantId,
    alipay_user_id: alipayUserId,
    biz_card_no: bizCardNo,
    source: 'crm',
    status: 'pending',
    ...encryptedProfile(profile, deps.cipher),
    created_at: now,
    updated_at: now,
  }
  if (!(await repo.insertOnce(db, row))) {
    return recordCrmMember(deps, merchantId, alipayUserId, bizCardNo, profile)
  }
  return toMember(row, deps.cipher)
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
