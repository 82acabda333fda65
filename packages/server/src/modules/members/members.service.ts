import type { FieldCipher } from '../../shared/field-crypto.js'
import { offsetOf, type PageRequest } from '../../shared/paging.js'
import * as repo from './members.repository.js'
import { CTX, toMember, type Member } from './members.view.js'
import type { AppDeps } from '../../deps.js'

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
      ...(filter.mobile ? { mobileHash: deps.cipher.lookupHash(filter.mobile, CTX.mobile) } : {}),
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
