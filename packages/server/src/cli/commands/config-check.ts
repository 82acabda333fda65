import { stringify } from 'yaml'
import { loadConfigFromProcess, redactedConfig } from '../../config.js'
import { openDb, ping } from '../../db/db.js'
import { certExpiryFigures } from '../../modules/merchants/index.js'
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
  const warnings = await checkDatabase(config.database, config.alipayCertExpiryWarningDays)
  for (const warning of warnings) {
    process.stderr.write(`warning: ${warning}\n`)
  }
  process.stdout.write(`# kaguan configuration: valid\n${stringify(redactedConfig(config))}`)
  return 0
}

/**
 * Cert-mode apps whose first certificate expires within `days` (or has expired): a warning each,
 * not a failure. A database not migrated yet has nothing to say.
 */
export async function certExpiryWarnings(
  db: Parameters<typeof certExpiryFigures>[0]['db'],
  days: number,
  now = Date.now(),
): Promise<string[]> {
  let figures: { merchantId: string; expiresAt: string }[]
  try {
    figures = await certExpiryFigures({ db })
  } catch {
    return []
  }
  return figures
    .filter((f) => Date.parse(f.expiresAt) - now <= days * 86_400_000)
    .map((f) => {
      const left = Math.floor((Date.parse(f.expiresAt) - now) / 86_400_000)
      return left < 0
        ? `merchant ${f.merchantId}: an Alipay certificate (cert mode) expired at ${f.expiresAt}; calls fail until new certificates are saved`
        : `merchant ${f.merchantId}: an Alipay certificate (cert mode) expires at ${f.expiresAt} (in ${left} days); renew it in the open platform and save the new certificates`
    })
}

async function checkDatabase(
  database: { url: string; dialect: 'sqlite' | 'postgres' },
  warningDays: number,
): Promise<string[]> {
  const handle = openDb({ ...database, poolSize: 1, connectTimeoutMs: 5000 })
  try {
    await ping(handle.db)
    return await certExpiryWarnings(handle.db, warningDays)
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
