import type { AppDeps } from '../../deps.js'
import { sql } from 'kysely'

/**
 * Whole-table figures for the metrics endpoint, all merchants together (a merchant label would grow
 * with the tenants). Read-only aggregates; the scrape caches them for a few seconds.
 */
export interface CardFigures {
  /** Active cards whose state has not reached Alipay (state_version ahead of pushed_version). */
  behind: number
  /** The oldest `updated_at` (its latest change) among those cards; null when none is behind. */
  oldestBehindSince: string | null
  /** Claims by status and errcode ('' unless failed). */
  claims: { outcome: string; errcode: string; count: number }[]
  /** Point ledger entries by source (claim, crm, admin, …). */
  pointEntries: { source: string; count: number }[]
}

export async function cardFigures({ db }: Pick<AppDeps, 'db'>): Promise<CardFigures> {
  const [behind, claims, entries] = await Promise.all([
    db
      .selectFrom('cards')
      .select([sql<number>`count(*)`.as('n'), sql<string | null>`min(updated_at)`.as('oldest')])
      .where('status', '=', 'active')
      .whereRef('pushed_version', '<', 'state_version')
      .executeTakeFirst(),
    db
      .selectFrom('claims')
      .select(['status', 'error_code', sql<number>`count(*)`.as('n')])
      .groupBy(['status', 'error_code'])
      .execute(),
    db
      .selectFrom('point_entries')
      .select(['source', sql<number>`count(*)`.as('n')])
      .groupBy('source')
      .execute(),
  ])
  return {
    behind: Number(behind?.n ?? 0),
    oldestBehindSince: behind?.oldest ?? null,
    claims: claims.map((c) => ({
      outcome: c.status,
      errcode: c.error_code ?? '',
      count: Number(c.n),
    })),
    pointEntries: entries.map((e) => ({ source: e.source, count: Number(e.n) })),
  }
}
