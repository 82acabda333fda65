import { describe, expect, it } from 'vitest'
import { chinaDayStart, stampColumn, stampsForTrade, toFen } from './stamps.rules.js'

describe('stampsForTrade', () => {
  const shops = ['shp_a', 'shp_b']

  it('gives one stamp for a qualifying trade at an activity shop', () => {
    expect(stampsForTrade({}, shops, { amount: '0.01', shopId: 'shp_a' }, 0)).toBe(1)
  })

  it('gives nothing below the minimum amount, exactly at it one', () => {
    const rule = { minAmount: '10' }
    expect(stampsForTrade(rule, shops, { amount: '9.99', shopId: 'shp_a' }, 0)).toBe(0)
    expect(stampsForTrade(rule, shops, { amount: '10.00', shopId: 'shp_a' }, 0)).toBe(1)
  })

  it("gives nothing outside the rule's shops or when the shop is unknown", () => {
    const rule = { shopIds: ['shp_b'] }
    expect(stampsForTrade(rule, shops, { amount: '20', shopId: 'shp_a' }, 0)).toBe(0)
    expect(stampsForTrade(rule, shops, { amount: '20' }, 0)).toBe(0)
    expect(stampsForTrade(rule, shops, { amount: '20', shopId: 'shp_b' }, 0)).toBe(1)
    // No shops anywhere: every trade of the merchant counts.
    expect(stampsForTrade({}, [], { amount: '20' }, 0)).toBe(1)
  })

  it('counts full amount steps', () => {
    const rule = { perAmountStep: { amount: '10', stamps: 2 } }
    expect(stampsForTrade(rule, shops, { amount: '29.99', shopId: 'shp_a' }, 0)).toBe(4)
    expect(stampsForTrade(rule, shops, { amount: '9.99', shopId: 'shp_a' }, 0)).toBe(0)
  })

  it('never passes the daily cap', () => {
    const rule = { maxPerDay: 3, perAmountStep: { amount: '1', stamps: 1 } }
    expect(stampsForTrade(rule, shops, { amount: '5', shopId: 'shp_a' }, 0)).toBe(3)
    expect(stampsForTrade(rule, shops, { amount: '5', shopId: 'shp_a' }, 2)).toBe(1)
    expect(stampsForTrade(rule, shops, { amount: '5', shopId: 'shp_a' }, 3)).toBe(0)
    expect(stampsForTrade(rule, shops, { amount: '5', shopId: 'shp_a' }, 7)).toBe(0)
  })

  it('refuses malformed or non-positive amounts', () => {
    expect(stampsForTrade({}, [], { amount: 'abc' }, 0)).toBe(0)
    expect(stampsForTrade({}, [], { amount: '0.00' }, 0)).toBe(0)
  })
})

describe('helpers', () => {
  it('converts yuan to fen exactly', () => {
    expect(toFen('0.1')).toBe(10)
    expect(toFen('19.99')).toBe(1999)
    expect(toFen('1.005')).toBeNaN()
  })

  it('starts the day at midnight China time', () => {
    expect(chinaDayStart(new Date('2026-12-02T15:59:00Z'))).toBe('2026-12-01T16:00:00.000Z')
    expect(chinaDayStart(new Date('2026-12-02T16:00:00Z'))).toBe('2026-12-02T16:00:00.000Z')
  })

  it('shows the card column as available/complete', () => {
    expect(stampColumn(3, 5)).toBe('3/5')
  })
})
