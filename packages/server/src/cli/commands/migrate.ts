import { loadConfigFromProcess, redactUrl } from '../../config.js'
import { openDb } from '../../db/db.js'
import { migrateToLatest } from '../../db/migrate.js'
import { ensureDefaultMerchant } from '../../modules/merchants/index.js'
import { systemClock } from '../../shared/clock.js'

export async function runMigrate(opts: { config?: string }): Promise<number> {
  const config = loadConfigFromProcess({ configFile: opts.config })
  const handle = openDb(config.database)
  try {
    const applied = await migrateToLatest(handle.db)
    await ensureDefaultMerchant({ db: handle.db, clock: systemClock })
    process.stdout.write(
      applied.length
        ? `applied ${applied.length} migration(s) to ${redactUrl(config.database.url)}:\n${applied.map((m) => `  ${m}\n`).join('')}`
        : `${redactUrl(config.database.url)} is up to date\n`,
    )
    return 0
  } finally {
    await handle.close()
  }
}
