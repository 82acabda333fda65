import { Migrator, type MigrationResult } from 'kysely'
import { AppError, ErrorKind } from '../shared/errors.js'
import type { Db } from './db.js'
import { migrations } from './migrations/index.js'

function migrator(db: Db): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'kaguan_migrations',
    migrationLockTableName: 'kaguan_migrations_lock',
  })
}

/** Brings the schema to the latest version; returns the migrations applied by this call. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest()
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error')
    throw new AppError(
      ErrorKind.Internal,
      'DB_MIGRATION_FAILED',
      `migration ${failed?.migrationName ?? '(unknown)'} failed: ${error instanceof Error ? error.message : String(error)}`,
      {},
      { cause: error },
    )
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** Names of the migrations this build knows but the database has not applied. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const all = await migrator(db).getMigrations()
  return all.filter((m) => !m.executedAt).map((m) => m.name)
}
