/** Card and member numbers of bulk-loaded card `i`: [bizCardNo, alipayCardNo, alipayUserId]. */
export function cloneNumbers(i: number): [string, string, string] {
  const n = String(i).padStart(9, '0')
  return [`BK${n}`, `EM${n}`, `2088${String(700_000_000_000 + i)}`]
}

/** kaguan's id of bulk-loaded card `i`. */
export const cloneCardId = (i: number) => `card_bench_${i}`
