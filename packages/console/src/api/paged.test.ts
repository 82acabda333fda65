import { describe, expect, it } from 'vitest'
import { asPage, memberSearchParams } from './paged.js'

describe('asPage', () => {
  it('takes a paged answer as it is', () => {
    expect(
      asPage({ items: [1, 2], total: 42, page: 3, pageSize: 2 }, { page: 1, pageSize: 20 }),
    ).toEqual({
      items: [1, 2],
      total: 42,
      page: 3,
      pageSize: 2,
    })
  })

  it('shows a bare array or { items } as one page holding everything', () => {
    expect(asPage([1, 2, 3], { page: 2, pageSize: 2 })).toEqual({
      items: [1, 2, 3],
      total: 3,
      page: 1,
      pageSize: 3,
    })
    expect(asPage({ items: ['a'] }, { page: 1, pageSize: 20 })).toEqual({
      items: ['a'],
      total: 1,
      page: 1,
      pageSize: 20,
    })
  })
})

describe('memberSearchParams', () => {
  it('sends the term as q and as the field it looks like', () => {
    expect(memberSearchParams(' 13800000000 ')).toEqual({ q: '13800000000', mobile: '13800000000' })
    expect(memberSearchParams('2088000000000001')).toEqual({
      q: '2088000000000001',
      alipayUserId: '2088000000000001',
    })
    expect(memberSearchParams('KG0001')).toEqual({ q: 'KG0001', bizCardNo: 'KG0001' })
    expect(memberSearchParams('  ')).toEqual({})
  })
})
