import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Sqlite from 'better-sqlite3'
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  sql,
  type SqliteDatabase,
  type Transaction,
} from 'kysely'
import pg from 'pg'
import type { DatabaseDialect } from '../config.js'
import type { Database } from './schema.js'

export type Db = Kysely<Database>
export type Executor = Db | Transaction<Database>

/** A database handle plus which engine it is, for the few queries that differ (see §4.6). */
export interface DbHandle {
  db: Db
  dialect: DatabaseDialect
  close(): Promise<void>
}

// Points and counters fit in 2^53: read int8 and numeric as numbers, never strings.
pg.types.setTypeParser(20, (v) => Number(v))
pg.types.setTypeParser(1700, (v) => Number(v))

export interface OpenDbOptions {
  url: string
  dialect: DatabaseDialect
  /** PostgreSQL pool size; SQLite is one connection behind Kysely's mutex. */
  poolSize?: number
  /** How long a new PostgreSQL connection may take; unlimited when absent (pg's default). */
  connectTimeoutMs?: number
  /** Told when an idle PostgreSQL connection fails (the pool replaces it). */
  onIdleError?: (error: Error) => void
}

export function openDb(options: OpenDbOptions): DbHandle {
  if (options.dialect === 'sqlite') {
    const file = options.url.slice('sqlite:'.length)
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true })
    }
    const sqlite = new Sqlite(file)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('foreign_keys = ON')
    // WAL + NORMAL is durable across process crashes (not power loss), the usual embedded trade-off.
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('busy_timeout = 5000')
    sqlite.pragma('cache_size = -32768')
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
    })
    return { db, dialect: 'sqlite', close: () => db.destroy() }
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
  })
  // An idle connection the server closes (a restart, a failover, an administrator) must not crash
  // the process: the pool drops that client and the next query opens a new one.
  pool.on('error', (error) => options.onIdleError?.(error))
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { db, dialect: 'postgres', close: () => db.destroy() }
}

/** How many compiled SQLite statements are kept; kaguan's distinct query texts are far fewer. */
const STATEMENT_CACHE_SIZE = 500

/**
 * better-sqlite3 compiles SQL on every `prepare()`, and Kysely prepares each query anew: on the
 * CRM's `/card/update` compiling cost as much as running. The same few hundred texts repeat, so
 * compiled statements are kept by text (least recently used dropped first). Reusing one is safe:
 * Kysely runs one query at a time on its single SQLite connection, and SQLite recompiles a
 * statement by itself when a migration changes the schema under it.
 */
function withStatementCache(sqlite: Sqlite.Database): SqliteDatabase {
  const cache = new Map<string, Sqlite.Statement>()
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = cache.get(text)
      if (statement) {
        cache.delete(text)
      } else {
        statement = sqlite.prepare(text)
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          cache.delete(cache.keys().next().value!)
        }
      }
      cache.set(text, statement)
      return statement
    },
  }
}

/** `select 1`, for readiness probes. */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db)
}
