import type { TemplateSpec } from '@kaguan/contracts'
import { describe, expect, it } from 'vitest'
import { toCardOpenRequest, validDate, type CardOpenInput } from './card-open-request.js'

function spec(validity: TemplateSpec['basic']['validity']): TemplateSpec {
  return {
    basic: { name: '咖啡会员卡', validity, shopIds: [] },
    style: {
      logoImageId: 'img_logo',
      backgroundImageId: 'img_bg',
      fontColor: '#FFFFFF',
      backgroundColor: '#000000',
      code: { type: 'qr' },
    },
    columns: [{ kind: 'point', title: '积分' }],
    levels: [{ code: 'GOLD', name: '金卡会员' }],
    actions: [],
    form: { fields: [{ field: 'mobile', required: true }] },
    defaults: { point: 0 },
  } as TemplateSpec
}

// 2026-12-06 10:00:00 in China (UTC+8).
const now = new Date('2026-12-06T02:00:00Z')

function input(change: Partial<CardOpenInput> = {}): CardOpenInput {
  return {
    spec: spec({ type: 'permanent' }),
    alipayTemplateId: '20261206000000001',
    member: { bizCardNo: 'M0001', point: 10 },
    alipayUserId: '2088000000000001',
    profile: {},
    generation: 0,
    now,
    ...change,
  }
}

describe('card.open request', () => {
  it('derives out_serial_no from template, user and generation, so a retried open repeats it', () => {
    const body = toCardOpenRequest(input({ generation: 2 }))
    expect(body.out_serial_no).toBe('20261206000000001_2088000000000001_2')
    expect(toCardOpenRequest(input({ generation: 2 })).out_serial_no).toBe(body.out_serial_no)
    expect(toCardOpenRequest(input({ generation: 3 })).out_serial_no).not.toBe(body.out_serial_no)
    expect(body.card_template_id).toBe('20261206000000001')
    expect(body.card_user_info).toEqual({
      user_uni_id: '2088000000000001',
      user_uni_id_type: 'UID',
    })
  })

  it('sends the card number, China-time dates and points, without level or balance when unset', () => {
    const body = toCardOpenRequest(input())
    expect(body.card_ext_info).toEqual({
      external_card_no: 'M0001',
      open_date: '2026-12-06 10:00:00',
      valid_date: '2099-12-31 23:59:59',
      point: '10',
    })
  })

  it('sends level and balance when the member has them', () => {
    const body = toCardOpenRequest(
      input({ member: { bizCardNo: 'M0002', point: 0, level: 'GOLD', balance: '12.50' } }),
    )
    expect(body.card_ext_info).toMatchObject({ point: '0', level: 'GOLD', balance: '12.50' })
  })

  it("maps the form to Alipay's member_ext_info names (cell, gende, birth), skipping blanks", () => {
    const body = toCardOpenRequest(
      input({
        profile: {
          name: '张三',
          mobile: '13800000000',
          gender: 'FEMALE',
          birthday: '1990-01-02',
          certNo: '110101199001020000',
        },
      }),
    )
    expect(body.member_ext_info).toEqual({
      name: '张三',
      cell: '13800000000',
      gende: 'FEMALE',
      birth: '1990-01-02',
    })
    expect(
      toCardOpenRequest(input({ profile: { name: '', mobile: '138' } })).member_ext_info,
    ).toEqual({ cell: '138' })
    expect(toCardOpenRequest(input()).member_ext_info).toEqual({})
  })

  it('passes outString as open_card_channel only when it is a short word', () => {
    expect(toCardOpenRequest(input({ outString: 'shop_12' })).open_card_channel).toBe('shop_12')
    for (const outString of [undefined, '', 'a b', 'x'.repeat(65), '渠道', 'a&b=c']) {
      expect(toCardOpenRequest(input({ outString }))).not.toHaveProperty('open_card_channel')
    }
    expect(toCardOpenRequest(input({ outString: 'x'.repeat(64) })).open_card_channel).toHaveLength(
      64,
    )
  })

  it("computes valid_date from the template's validity", () => {
    expect(validDate(spec({ type: 'permanent' }), now)).toBe('2099-12-31 23:59:59')
    expect(validDate(spec({ type: 'fixedEnd', endDate: '2027-06-30' }), now)).toBe(
      '2027-06-30 23:59:59',
    )
    expect(validDate(spec({ type: 'afterClaim', days: 30 }), now)).toBe('2027-01-05 10:00:00')
    const body = toCardOpenRequest(input({ spec: spec({ type: 'afterClaim', days: 365 }) }))
    expect(body.card_ext_info.valid_date).toBe('2027-12-06 10:00:00')
  })
})
