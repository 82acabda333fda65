/**
 * Opt-in: the schema and the outbox queries on a second PostgreSQL-compatible engine, PGlite (the
 * PostgreSQL server compiled to WebAssembly, from npm). It is not a dependency of kaguan; install
 * it for a run with
 *
 *   npm install --no-save @electric-sql/pglite && npx vitest run packages/server/test/compat
 *
 * Without it the suite is skipped (and says why). What it showed is in docs/scaling.md §5.
 */
import {
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/db.js'
import { migrateToLatest, pendingMigrations } from '../../src/db/migrate.js'
import type { Database } from '../../src/db/schema.js'
import { cardFigures } from '../../src/modules/cards/index.js'
import {
  createOutboxWorker,
  enqueue,
  listOutbox,
  outboxCounts,
  outboxDepth,
  OutboxStatus,
} from '../../src/modules/outbox/index.js'
import { fixedClock } from '../../src/shared/clock.js'
import { createIds } from '../../src/shared/ids.js'
import { capturingLogger } from '../helpers/logs.js'

/** The little of PGlite's API used here. */
interface Pglite {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows?: number }>
  close(): Promise<void>
}
interface PgliteModule {
  PGlite: { create(options?: object): Promise<Pglite & { query: Pglite['query'] }> }
}

// A variable specifier: the package is optional, so neither tsc nor the bundler may insist on it.
const PGLITE = '@electric-sql/pglite'
const pglite = (await import(PGLITE).catch(() => undefined)) as PgliteModule | undefined
if (!pglite) {
  console.info(`[kaguan] PGlite compatibility test skipped: ${PGLITE} is not installed (opt-in)`)
}

const COMMAND = /^\s*(?:with\b[\s\S]*?\)\s*)?(insert|update|delete|merge|select)\b/i

/**
 * PGlite as the `pg` pool Kysely's PostgresDialect expects: one connection, handed to one user at
 * a time (a transaction keeps it until it ends), as PGlite is one single-user backend.
 */
function pglitePool(db: Pglite): PostgresPool {
  let queue: Promise<void> = Promise.resolve()
  return {
    async connect() {
      let release!: () => void
      const before = queue
      queue = new Promise<void>((resolve) => (release = resolve))
      await before
      const client = {
        async query(sql: string, parameters: readonly unknown[]) {
          const result = await db.query(sql, [...parameters])
          const command = COMMAND.exec(sql)?.[1]?.toUpperCase() ?? 'SELECT'
          return {
            command,
            rowCount: result.affectedRows ?? result.rows.length,
            rows: result.rows,
          } as PostgresQueryResult<unknown>
        },
        release: () => release(),
      }
      return client as unknown as PostgresPoolClient
    },
    end: () => db.close(),
  }
}

describe.skipIf(!pglite)('PGlite: the schema and the outbox queries', () => {
  let db: Db
  let engine: Pglite
  const clock = fixedClock('2026-12-06T08:00:00.000Z')
  const ids = createIds(() => clock.now().getTime())
  const { log } = capturingLogger()
  const statements: string[] = []

  beforeAll(async () => {
    engine = await pglite!.PGlite.create({
      // As db.ts sets for pg: int8 and numeric read as numbers.
      parsers: { 20: (v: string) => Number(v), 1700: (v: string) => Number(v) },
    })
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: pglitePool(engine) }),
      log: (event) => void statements.push(event.query.sql),
    })
  })
  afterAll(async () => {
    await db?.destroy()
  })

  it('runs every migration, and the schema is current after', async () => {
    const applied = await migrateToLatest(db)
    expect(applied.length).toBeGreaterThan(5)
    expect(await pendingMigrations(db)).toEqual([])
    const { rows } = await engine.query(
      "select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name in ('outbox', 'cards', 'claims', 'point_entries', 'stamp_entries')",
    )
    expect(rows).toEqual([{ n: 5 }])
  })

  it('collapses, claims with FOR UPDATE SKIP LOCKED, delivers each entry once and counts them', async () => {
    const deps = { clock, ids }
    for (let point = 1; point <= 3; point++) {
      await enqueue(
        { ...deps, db },
        {
          merchantId: 'm1',
          topic: 'card.push',
          collapseKey: 'card_1',
          payload: { point },
        },
      )
    }
    for (let k = 0; k < 10; k++) {
      await enqueue(
        { ...deps, db },
        {
          merchantId: k % 2 ? 'm1' : 'm2',
          topic: 'card.change',
          orderKey: `card_${k % 3}`,
          payload: { k },
        },
      )
    }
    const collapsed = await listOutbox({ db }, { topic: 'card.push' })
    expect(collapsed).toHaveLength(1)
    expect(collapsed[0]!.payload).toEqual({ point: 3 })
    expect(await outboxDepth({ db })).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ topic: 'card.push', status: 'pending', count: 1 }),
        expect.objectContaining({ topic: 'card.change', status: 'pending', count: 10 }),
      ]),
    )

    const seen: string[] = []
    const worker = (id: string) =>
      createOutboxWorker({
        db,
        dialect: 'postgres',
        clock,
        log,
        workerId: id,
        handlers: {
          'card.push': async (e) => void seen.push(e.id),
          'card.change': async (e) => void seen.push(e.id),
        },
      })
    const [a, b] = [worker('w1'), worker('w2')]
    let rounds = 0
    while (rounds++ < 20) {
      const done = await Promise.all([a.runOnce(), b.runOnce()])
      if (done[0] + done[1] === 0) {
        break
      }
    }
    // The claim the workers ran is the PostgreSQL one, not SQLite's single-writer path.
    expect(statements.some((q) => /for update skip locked/i.test(q))).toBe(true)
    expect(seen).toHaveLength(11)
    expect(new Set(seen).size).toBe(11)
    expect(await outboxCounts({ db })).toEqual({ [OutboxStatus.Done]: 11 })
    expect(await outboxDepth({ db })).toEqual([])
  })

  it('answers the metrics read of the cards module', async () => {
    expect(await cardFigures({ db })).toEqual({
      behind: 0,
      oldestBehindSince: null,
      claims: [],
      pointEntries: [],
    })
  })
})
