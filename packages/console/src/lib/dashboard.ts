/**
 * The last `days` calendar days ending today (UTC, as the server counts), each with its claims;
 * days the server left out had none. Keeps the chart's x axis even.
 */
export function fillDays(
  counts: readonly { date: string; count: number }[],
  days: number,
  today: Date,
): { date: string; count: number }[] {
  const byDate = new Map(counts.map((c) => [c.date, c.count]))
  const out: { date: string; count: number }[] = []
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(
      Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i),
    )
    const date = d.toISOString().slice(0, 10)
    out.push({ date, count: byDate.get(date) ?? 0 })
  }
  return out
}
