import { describe, expect, it } from 'vitest'
import { createIds } from './ids.js'

describe('ids', () => {
  it('sort in the order they were made, even within one millisecond', () => {
    const ids = createIds(() => 1_700_000_000_000)
    const made = Array.from({ length: 1000 }, () => ids.next('obx'))
    expect([...made].sort()).toEqual(made)
    expect(new Set(made).size).toBe(made.length)
  })

  it('keep sorting when the clock steps back', () => {
    let t = 1_700_000_000_500
    const ids = createIds(() => t)
    const first = ids.next('obx')
    t -= 400
    expect(ids.next('obx') > first).toBe(true)
  })
})
