import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { loadConfigFromProcess } from '../../config.js'
import { openDb } from '../../db/db.js'
import { migrateToLatest } from '../../db/migrate.js'
import {
  AdminRoles,
  createAdminUser,
  isAdminRole,
  resetAdminPassword,
} from '../../modules/admin/index.js'
import { systemClock } from '../../shared/clock.js'
import { createIds } from '../../shared/ids.js'
import { UsageError } from '../usage.js'

const NO_PASSWORD =
  'give the password in a file (--password-file FILE) or as one line on stdin (echo … | kaguan admin …); never as a flag, which shell history would keep'

/** The first line of `text`, without its line ending: a file written by `echo` ends in a newline. */
function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? ''
}

async function readStdinLine(): Promise<string | undefined> {
  const lines = createInterface({ input: process.stdin, terminal: false })
  try {
    for await (const line of lines) {
      return line
    }
    return undefined
  } finally {
    lines.close()
  }
}

/**
 * The password from `--password-file`, or one line from stdin when stdin is not a terminal. Never
 * from a flag or an argument: those end up in shell history and `ps` output.
 */
async function readPassword(passwordFile: string | undefined): Promise<string> {
  if (passwordFile) {
    return firstLine(readFileSync(passwordFile, 'utf8'))
  }
  if (process.stdin.isTTY) {
    throw new UsageError(NO_PASSWORD)
  }
  const line = await readStdinLine()
  if (line === undefined || line === '') {
    throw new UsageError(NO_PASSWORD)
  }
  return line
}

async function withDb<T>(
  configFile: string | undefined,
  fn: (db: ReturnType<typeof openDb>) => Promise<T>,
): Promise<T> {
  const config = loadConfigFromProcess({ configFile })
  const handle = openDb(config.database)
  try {
    await migrateToLatest(handle.db)
    return await fn(handle)
  } finally {
    await handle.close()
  }
}

/**
 * `kaguan admin create --username NAME --role ROLE [--merchant ID]... [--password-file FILE]`: makes
 * a console account; with `--merchant`, one that sees only those merchants, with ROLE at each.
 */
export async function runAdminCreate(opts: {
  username?: string
  role?: string
  merchant?: string[]
  'password-file'?: string
  config?: string
}): Promise<number> {
  if (!opts.username) {
    throw new UsageError('admin create needs --username')
  }
  if (!isAdminRole(opts.role)) {
    throw new UsageError(`admin create needs --role, one of ${AdminRoles.join(', ')}`)
  }
  const role = opts.role
  const password = await readPassword(opts['password-file'])
  const user = await withDb(opts.config, (handle) =>
    createAdminUser(
      { ...{ clock: systemClock, ids: createIds() }, db: handle.db },
      {
        username: opts.username!,
        password,
        role,
        ...(opts.merchant?.length
          ? { merchants: opts.merchant.map((merchantId) => ({ merchantId, role })) }
          : {}),
      },
      'cli',
    ),
  )
  const scope =
    user.scope === 'platform'
      ? 'a platform admin, sees every merchant'
      : `sees only merchant ${user.merchants.map((m) => m.merchantId).join(', ')}`
  process.stdout.write(
    `created admin user "${user.username}" (${user.role}, ${user.id}): ${scope}\n`,
  )
  return 0
}

/** `kaguan admin reset-password --username NAME [--password-file FILE]`: new password, lock-out cleared, sessions ended. */
export async function runAdminResetPassword(opts: {
  username?: string
  'password-file'?: string
  config?: string
}): Promise<number> {
  if (!opts.username) {
    throw new UsageError('admin reset-password needs --username')
  }
  const password = await readPassword(opts['password-file'])
  const { user, sessionsEnded } = await withDb(opts.config, (handle) =>
    resetAdminPassword(
      { ...{ clock: systemClock, ids: createIds() }, db: handle.db },
      { username: opts.username!, password },
      'cli',
    ),
  )
  process.stdout.write(
    `reset the password of "${user.username}": lock-out cleared, ${sessionsEnded} session(s) ended\n`,
  )
  return 0
}
