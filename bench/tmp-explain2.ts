import Sqlite from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import * as repo from '../packages/server/src/modules/outbox/outbox.repository.js'
const raw = new Sqlite('/tmp/explain.sqlite')
let text = ''
let params: readonly unknown[] = []
const db = new Kysely<any>({ dialect: new SqliteDialect({ database: raw }), log: (e) => { if (e.level === 'query') { text = e.query.sql; params = e.query.parameters } } })
const now = new Date().toISOString()
await repo.claimDue(db as never, 'sqlite', { workerId: 'w', now, leaseUntil: now, limit: 20, topics: ['card.push', 'card.change'] })
console.log(text)
console.log(raw.prepare('explain query plan ' + text).all(...(params as unknown[])).map((r: any) => `${r.id} ${r.parent} ${r.detail}`).join('\n'))
