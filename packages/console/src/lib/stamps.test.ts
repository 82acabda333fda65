import dayjs from 'dayjs'
import { describe, expect, it } from 'vitest'
import {
  entryEffect,
  formFromSpec,
  holdCountdown,
  newStampForm,
  specFromForm,
  stampFormProblems,
  stampPublishAdvice,
  yuan,
  type StampActivityType,
  type StampForm,
} from './stamps.js'

const start = dayjs('2026-12-01T00:00:00+08:00')
const end = dayjs('2027-03-01T00:00:00+08:00')

describe('stamp activity form', () => {
  it('makes a stamp card spec: yuan as strings, empty optional rule parts left out', () => {
    const spec = specFromForm('POINT_SEND', {
      name: ' 集5点送5元 ',
      description: '',
      startTime: start,
      endTime: end,
      shopIds: ['shp_1'],
      card: { name: '集点卡', description: '满5点换5元券', logoImageId: '' },
      rule: { minAmount: 9.9, maxPerDay: null, perAmountStep: { amount: 20, stamps: null } },
      stampsToComplete: 5,
      mirrorToKoubei: true,
    })
    expect(spec).toEqual({
      name: '集5点送5元',
      startTime: start.format('YYYY-MM-DDTHH:mm:ssZ'),
      endTime: end.format('YYYY-MM-DDTHH:mm:ssZ'),
      shopIds: ['shp_1'],
      card: { name: '集点卡', description: '满5点换5元券' },
      rule: { minAmount: '9.90' },
      stampsToComplete: 5,
    })
    expect(spec.startTime).toMatch(/^2026-1[12]-\d\dT\d\d:00:00[+-]\d\d:\d\d$/)
  })

  it('keeps the per-amount step only when both halves are given, and an opt-out of Koubei', () => {
    const spec = specFromForm('POINT_SEND', {
      ...newStampForm('POINT_SEND', start),
      rule: { perAmountStep: { amount: 10, stamps: 2 }, maxPerDay: 3, shopIds: [] },
      mirrorToKoubei: false,
    })
    expect(spec.rule).toEqual({ perAmountStep: { amount: '10', stamps: 2 }, maxPerDay: 3 })
    expect(spec.mirrorToKoubei).toBe(false)
  })

  it('makes an exchange spec: a MONEY voucher sends its worth, a RATE voucher its rate', () => {
    const base = newStampForm('DIRECT_SEND', start)
    const money = specFromForm('DIRECT_SEND', {
      ...base,
      name: '5点换5元券',
      shopIds: ['shp_1'],
      stampActivityId: 'sta_1',
      voucher: {
        type: 'MONEY',
        name: '5元代金券',
        worth: 5,
        rate: 0.8,
        minConsume: 20,
        validity: { type: 'RELATIVE', days: 30 },
      },
    })
    expect(money).toMatchObject({
      stampActivityId: 'sta_1',
      stampsPerVoucher: 5,
      holdTtlMinutes: 30,
      budget: 1000,
      allowRepeatSend: true,
      voucher: {
        type: 'MONEY',
        name: '5元代金券',
        worth: '5',
        minConsume: '20',
        validity: { type: 'RELATIVE', days: 30 },
      },
    })
    expect(money.voucher).not.toHaveProperty('rate')
    const rate = specFromForm('DIRECT_SEND', {
      ...base,
      voucher: {
        type: 'RATE',
        name: '八折券',
        worth: 5,
        rate: 0.8,
        validity: { type: 'FIXED', period: [start, end] },
      },
    })
    expect(rate.voucher).toEqual({
      type: 'RATE',
      name: '八折券',
      rate: '0.8',
      validity: {
        type: 'FIXED',
        startTime: start.format('YYYY-MM-DDTHH:mm:ssZ'),
        endTime: end.format('YYYY-MM-DDTHH:mm:ssZ'),
      },
    })
  })

  it('reads a saved draft back into the same form', () => {
    const cases: [StampActivityType, StampForm][] = [
      [
        'POINT_SEND',
        {
          ...newStampForm('POINT_SEND', start),
          name: 'a',
          card: { name: 'c', description: 'd', logoImageId: 'img_1' },
          rule: { minAmount: 10, perAmountStep: { amount: 10, stamps: 2 } },
        },
      ],
      [
        'DIRECT_SEND',
        {
          ...newStampForm('DIRECT_SEND', start),
          name: 'b',
          stampActivityId: 'sta_1',
          voucher: {
            type: 'MONEY',
            name: 'v',
            worth: 5.5,
            minConsume: 20,
            validity: { type: 'FIXED', period: [start, end] },
          },
        },
      ],
    ]
    for (const [type, form] of cases) {
      const spec = specFromForm(type, form)
      expect(specFromForm(type, formFromSpec(type, spec))).toEqual(spec)
    }
  })

  it('moves the voucher validity ends onto the range field', () => {
    expect(
      stampFormProblems([
        { field: 'spec.voucher.validity.endTime', message: 'must be after startTime' },
        { field: 'spec.name', message: 'required' },
      ]).map((p) => p.field),
    ).toEqual(['spec.voucher.validity.period', 'spec.name'])
  })

  it('formats yuan with two decimals only when there are any', () => {
    expect([yuan(10), yuan(9.9), yuan(0.05)]).toEqual(['10', '9.90', '0.05'])
  })
})

describe('stampPublishAdvice', () => {
  const shops = ['西湖店', '滨江店']
  it('names the shop that lacks its Alipay shop id', () => {
    const advice = stampPublishAdvice(
      {
        errcode: 'STAMPS_INVALID',
        message: 'bad',
        fields: [
          { field: 'spec.shopIds.1', message: 'shop shp_2 has no alipayShopId; Koubei needs it' },
        ],
      },
      (i) => shops[i],
    )
    expect(advice).toEqual([
      { key: 'stamps.advice.shopWithoutAlipayId', values: { shop: '滨江店' } },
    ])
  })

  it('says to publish the stamp activity first, and keeps the Alipay advice', () => {
    expect(
      stampPublishAdvice(
        {
          errcode: 'STAMPS_INVALID',
          message: 'x',
          fields: [
            { field: 'spec.stampActivityId', message: 'publish stamp activity sta_1 first' },
          ],
        },
        () => undefined,
      ),
    ).toEqual([{ key: 'stamps.advice.publishStampFirst' }])
    expect(
      stampPublishAdvice(
        { errcode: 'ALIPAY_PERMISSION_MISSING', message: 'koubei.publish 失败', fields: [] },
        () => undefined,
      ),
    ).toEqual([{ key: 'advice.permission' }])
    expect(
      stampPublishAdvice(
        { errcode: 'ALIPAY_REJECTED', message: 'koubei.publish 失败：…', fields: [] },
        () => undefined,
      ),
    ).toEqual([{ key: 'stamps.advice.koubei' }])
  })
})

describe('ledger helpers', () => {
  it('shows how each entry type moves available and frozen stamps', () => {
    expect(
      ['DEPOSIT', 'CONSUME', 'FREEZE', 'COMMIT', 'CANCEL'].map((type) =>
        entryEffect({ type, amount: 3 }),
      ),
    ).toEqual([
      { available: 3, frozen: 0 },
      { available: -3, frozen: 0 },
      { available: -3, frozen: 3 },
      { available: 0, frozen: -3 },
      { available: 3, frozen: -3 },
    ])
  })

  it('counts a hold down in whole minutes, then calls it overdue', () => {
    const now = new Date('2026-12-02T10:00:00Z')
    expect(holdCountdown({ status: 'held', expiresAt: '2026-12-02T10:10:30Z' }, now)).toEqual({
      state: 'waiting',
      minutes: 11,
    })
    expect(holdCountdown({ status: 'held', expiresAt: '2026-12-02T09:59:59Z' }, now)).toEqual({
      state: 'overdue',
    })
    expect(
      holdCountdown({ status: 'committed', expiresAt: '2026-12-02T09:00:00Z' }, now).state,
    ).toBe('resolved')
  })
})
