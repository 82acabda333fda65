import { describe, expect, it } from 'vitest'
import { fillDays } from './dashboard.js'

describe('fillDays', () => {
  it('lists every day up to today, with zero where the server had no claims', () => {
    expect(
      fillDays(
        [
          { date: '2026-02-28', count: 3 },
          { date: '2026-03-02', count: 1 },
          { date: '2026-01-01', count: 9 },
        ],
        4,
        new Date('2026-03-02T23:00:00Z'),
      ),
    ).toEqual([
      { date: '2026-02-27', count: 0 },
      { date: '2026-02-28', count: 3 },
      { date: '2026-03-01', count: 0 },
      { date: '2026-03-02', count: 1 },
    ])
  })
})
