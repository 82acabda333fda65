/**
 * Bench child: kaguan itself — management, mini, core and worker in one process, as `kaguan start`
 * runs them — on the database named by KAGUAN_DATABASE_URL, logging at info to a file.
 */
import Sqlite from 'better-sqlite3'
import { sql } from 'kysely'
import pino from 'pino'
import { loadConfig } from '../packages/server/src/config.js'
import { createAdminUser } from '../packages/server/src/modules/admin/index.js'
import { outboxCounts } from '../packages/server/src/modules/outbox/index.js'
import { startKaguan } from '../packages/server/src/roles/start.js'
import { createLogger } from '../packages/server/src/shared/log.js'
import { serveChild } from './lib/ipc.js'
import { cloneCardId, cloneNumbers } from './lib/numbers.js'

const dir = process.env.BENCH_DIR!

/** With BENCH_SQL_TIMING=1: time spent in each SQLite statement text (a profiling aid). */
const sqlTiming = new Map<string, { n: number; ms: number }>()
if (process.env.BENCH_SQL_TIMING === '1') {
  const proto = (Sqlite.prototype as unknown as { prepare: (sql: string) => object }).prepare
  const statementProto = Object.getPrototypeOf(
    proto.call(new Sqlite(':memory:'), 'select 1'),
  ) as Record<string, (...args: unknown[]) => unknown>
  for (const method of ['all', 'run', 'get']) {
    const original = statementProto[method]!
    statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
      const t0 = performance.now()
      try {
        return original.apply(this, args)
      } finally {
        const e = sqlTiming.get(this.source) ?? { n: 0, ms: 0 }
        e.n++
        e.ms += performance.now() - t0
        sqlTiming.set(this.source, e)
      }
    }
  }
}
const config = loadConfig({ env: process.env })
const log = createLogger({
  level: config.log.level,
  destination: pino.destination({ dest: `${dir}/kaguan.log`, sync: false }),
})
const kaguan = await startKaguan(config, { log })
const { db } = kaguan.deps
const admin = { username: 'bench', password: 'bench-password-123' }
// A restart (the bench runs kaguan again with other roles) finds the user it made.
await createAdminUser({ ...kaguan.deps, db: db }, { ...admin, role: 'admin' }, 'bench').catch(
  (error: unknown) => {
    if ((error as { code?: string }).code !== 'ADMIN_USERNAME_TAKEN') {
      throw error
    }
  },
)

interface BulkLoad {
  /** The card a real claim made: the row to copy. */
  cardId: string
  from: number
  count: number
}

serveChild(
  { urls: kaguan.urls, admin },
  {
    /**
     * Bulk loader: `count` members with one card each, copies of a claimed card, written in
     * multi-row inserts of 500 inside transactions of 20,000 (the bench's "fast" path; the
     * emulator gets the same cards through the peers process).
     */
    bulkLoad: async ({ cardId, from, count }: BulkLoad) => {
      const card = await db
        .selectFrom('cards')
        .selectAll()
        .where('id', '=', cardId)
        .executeTakeFirstOrThrow()
      const member = await db
        .selectFrom('members')
        .selectAll()
        .where('id', '=', card.member_id)
        .executeTakeFirstOrThrow()
      const chunk = 500
      for (let t = from; t < from + count; t += 20_000) {
        const end = Math.min(from + count, t + 20_000)
        await db.transaction().execute(async (trx) => {
          for (let s = t; s < end; s += chunk) {
            const members = []
            const cards = []
            for (let i = s; i < Math.min(end, s + chunk); i++) {
              const [bizCardNo, alipayCardNo, userId] = cloneNumbers(i)
              members.push({
                ...member,
                id: `mbr_bench_${i}`,
                alipay_user_id: userId,
                biz_card_no: bizCardNo,
                mobile_hash: null,
              })
              cards.push({
                ...card,
                id: cloneCardId(i),
                member_id: `mbr_bench_${i}`,
                alipay_user_id: userId,
                biz_card_no: bizCardNo,
                alipay_card_no: alipayCardNo,
              })
            }
            await trx.insertInto('members').values(members).execute()
            await trx.insertInto('cards').values(cards).execute()
          }
        })
      }
      return count
    },
    /**
     * What autovacuum does on PostgreSQL some seconds after a bulk import (its statistics drive
     * the plans); SQLite keeps none unless asked, as deployed.
     */
    analyze: async () => {
      if (kaguan.deps.dialect === 'postgres') {
        await sql`analyze`.execute(db)
      }
      return null
    },
    outbox: () => outboxCounts({ db }),
    sqlTiming: () =>
      [...sqlTiming]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 80)
        .map(([sql, t]) => ({ ms: Math.round(t.ms), n: t.n, sql: sql.slice(0, 300) })),
    /** Points kaguan holds, by kaguan card id. */
    points: async (ids: string[]) => {
      const rows = await db
        .selectFrom('cards')
        .select(['id', 'point'])
        .where('id', 'in', ids)
        .execute()
      const by = new Map(rows.map((r) => [r.id, Number(r.point)]))
      return ids.map((id) => by.get(id) ?? null)
    },
  },
  () => kaguan.close(),
)
