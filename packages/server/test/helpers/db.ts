import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { DatabaseDialect } from '../../src/config.js'
import { openDb, type DbHandle } from '../../src/db/db.js'
import { migrateToLatest } from '../../src/db/migrate.js'

/**
 * The database engines tests run on (Kysely's own test-matrix pattern): SQLite always, PostgreSQL
 * when scripts/test-postgres.ts found or started a server. KAGUAN_TEST_DIALECTS=sqlite narrows it.
 */
export const DIALECTS: readonly DatabaseDialect[] = (['sqlite', 'postgres'] as const).filter(
  (d) =>
    (d === 'sqlite' || Boolean(process.env.KAGUAN_TEST_PG_URL)) &&
    (process.env.KAGUAN_TEST_DIALECTS?.split(',')
      .map((s) => s.trim())
      .includes(d) ??
      true),
)

export interface TestDb extends DbHandle {
  url: string
  /** Closes the handle and drops the throwaway database. */
  destroy(): Promise<void>
}

/** A fresh, migrated database of the given engine, private to the calling test file. */
export async function createTestDb(
  dialect: DatabaseDialect,
  options: { migrate?: boolean } = {},
): Promise<TestDb> {
  let url: string
  let drop = async () => {}
  if (dialect === 'sqlite') {
    url = 'sqlite::memory:'
  } else {
    const admin = process.env.KAGUAN_TEST_PG_URL!
    const name = `kaguan_t_${randomBytes(6).toString('hex')}`
    await withClient(admin, (c) => c.query(`create database ${name}`))
    const u = new URL(admin)
    u.pathname = `/${name}`
    url = u.toString()
    drop = () =>
      withClient(admin, (c) => c.query(`drop database if exists ${name} with (force)`)).then(
        () => {},
      )
  }
  const handle = openDb({ url: dialect === 'sqlite' ? url : url, dialect, poolSize: 20 })
  if (options.migrate !== false) {
    await migrateToLatest(handle.db)
  }
  return {
    ...handle,
    url,
    async destroy() {
      await handle.close()
      await drop()
    },
  }
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}
