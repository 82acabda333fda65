import { describe, expect, it } from 'vitest'
import { alipayUserOf, isUserId } from './alipay-user.js'

describe('the user of an Alipay answer (OpenID)', () => {
  const openId = '074a1cctg1lelxke4xqc0zgndid0nxi95b5lsnpazwyoco5'

  it('keys by user_id when Alipay gives one, keeping the open_id beside it', () => {
    expect(alipayUserOf({ user_id: '2088102146225135', open_id: openId })).toEqual({
      id: '2088102146225135',
      openId,
    })
    expect(alipayUserOf({ user_id: '2088102146225135' })).toEqual({ id: '2088102146225135' })
  })

  it('keys by open_id for an app that only gets that, with the union_id where given', () => {
    expect(alipayUserOf({ open_id: openId, union_id: 'u1' })).toEqual({
      id: openId,
      openId,
      unionId: 'u1',
    })
    expect(isUserId(openId)).toBe(false)
    expect(isUserId('2088102146225135')).toBe(true)
  })

  it('names nobody without either id', () => {
    expect(alipayUserOf({ union_id: 'u1' })).toBeUndefined()
    expect(alipayUserOf({ user_id: ' ', open_id: 7 })).toBeUndefined()
  })
})
