import { stringify } from 'yaml'
import { loadConfigFromProcess, redactedConfig } from '../../config.js'
import { openDb, ping } from '../../db/db.js'
import { AppError, ErrorKind } from '../../shared/errors.js'

/**
 * Prints the effective configuration, secrets redacted, once the database it names answers; a bad
 * configuration or an unreachable database throws CONFIG_INVALID naming the setting (exit 1).
 */
export async function runConfigCheck(opts: { role?: string[]; config?: string }): Promise<number> {
  const config = loadConfigFromProcess({
    configFile: opts.config,
    overrides: { roles: opts.role },
    requireMasterKey: true,
  })
  await checkDatabase(config.database)
  process.stdout.write(`# kaguan configuration: valid\n${stringify(redactedConfig(config))}`)
  return 0
}

async function checkDatabase(database: { url: string; dialect: 'sqlite' | 'postgres' }) {
  const handle = openDb({ ...database, poolSize: 1, connectTimeoutMs: 5000 })
  try {
    await ping(handle.db)
  } catch (error) {
    // The reason only: the URL may carry a password.
    const reason = error instanceof Error ? error.message : String(error)
    throw new AppError(
      ErrorKind.Invalid,
      'CONFIG_INVALID',
      `KAGUAN_DATABASE_URL (database.url): cannot connect to the ${database.dialect} database: ${reason}`,
    )
  } finally {
    await handle.close().catch(() => {})
  }
}
