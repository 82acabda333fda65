import { sql, type RawBuilder } from 'kysely'
import type { DatabaseDialect } from '../config.js'

/**
 * The China-time day (`YYYY-MM-DD`, UTC+8, no DST) of an ISO-UTC text column, in the engine's own
 * words: a day's totals then group in the database, not in the process.
 */
export function chinaDaySql(dialect: DatabaseDialect, column: string): RawBuilder<string> {
  const ref = sql.ref(column)
  return dialect === 'sqlite'
    ? sql<string>`date(${ref}, '+8 hours')`
    : sql<string>`to_char((${ref}::timestamptz at time zone 'UTC') + interval '8 hours', 'YYYY-MM-DD')`
}
