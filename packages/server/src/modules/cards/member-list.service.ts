import type { Page } from '@kaguan/contracts'
import { pageOf, type PageRequest } from '../../shared/paging.js'
import { pageMembers, type Member, type MemberSort, type MembersDeps } from '../members/index.js'
import { toCardView, type CardView } from './card-state.service.js'
import * as repo from './cards.repository.js'
import type { AppDeps } from '../../deps.js'

export interface MemberWithCards extends Member {
  cards: CardView[]
}

export interface MemberQuery {
  /** One search box: a mobile number, an Alipay user id (2088…) or either card number. */
  q?: string
  mobile?: string
  bizCardNo?: string
  alipayCardNo?: string
  alipayUserId?: string
}

const MOBILE = /^1\d{10}$/
const ALIPAY_USER_ID = /^2088\d{12}$/

/** What a search term is, told by its shape: the three kinds never look alike. */
function classify(q: string): { mobile: string } | { alipayUserId: string } | { cardNo: string } {
  const compact = q.replace(/[\s-]/g, '')
  if (MOBILE.test(compact)) {
    return { mobile: compact }
  }
  if (ALIPAY_USER_ID.test(compact)) {
    return { alipayUserId: compact }
  }
  return { cardNo: q.trim() }
}

function intersect(a: string[] | undefined, b: string[]): string[] {
  return a ? a.filter((id) => b.includes(id)) : b
}

/**
 * A page of the merchant's members with their cards: all of them without a search term, or those
 * the term (or the explicit fields) find.
 */
export async function listMembers(
  deps: MembersDeps & Pick<AppDeps, 'db'>,
  merchantId: string,
  query: MemberQuery,
  request: PageRequest<MemberSort>,
): Promise<Page<MemberWithCards>> {
  const { db } = deps
  let memberIds: string[] | undefined
  let mobile = query.mobile
  let alipayUserId = query.alipayUserId
  if (query.alipayCardNo) {
    const card = await repo.findByAlipayCardNo(db, merchantId, query.alipayCardNo)
    memberIds = card ? [card.member_id] : []
  }
  const term = query.q?.trim() ? classify(query.q) : undefined
  if (term && 'cardNo' in term) {
    memberIds = intersect(memberIds, await repo.memberIdsByCardNo(db, merchantId, term.cardNo))
  } else if (term && 'mobile' in term) {
    if (mobile && mobile !== term.mobile) {
      return pageOf([], 0, request) // no member has two mobiles
    }
    mobile = term.mobile
  } else if (term) {
    if (alipayUserId && alipayUserId !== term.alipayUserId) {
      return pageOf([], 0, request)
    }
    alipayUserId = term.alipayUserId
  }
  const { items, total } = await pageMembers(
    deps,
    merchantId,
    {
      ...(mobile ? { mobile } : {}),
      ...(query.bizCardNo ? { bizCardNo: query.bizCardNo } : {}),
      ...(alipayUserId ? { alipayUserId } : {}),
      ...(memberIds ? { memberIds } : {}),
    },
    request,
  )
  const cards = await repo.listByMembers(
    db,
    items.map((m) => m.id),
  )
  return pageOf(
    items.map((m) => ({
      ...m,
      cards: cards.filter((c) => c.member_id === m.id).map(toCardView),
    })),
    total,
    request,
  )
}

/** A member's active cards (every template), as the APIs show them. */
export async function activeCardsOf(
  deps: Pick<AppDeps, 'db'>,
  memberId: string,
): Promise<CardView[]> {
  const { db } = deps
  return (await repo.listByMembers(db, [memberId]))
    .filter((c) => c.status === 'active')
    .map(toCardView)
}
