import { loadConfigFromProcess } from '../../config.js'
import { openDb } from '../../db/db.js'
import { listOutbox, outboxCounts, retryParked } from '../../modules/outbox/index.js'
import { systemClock } from '../../shared/clock.js'
import { UsageError } from '../usage.js'

/** `kaguan outbox list`: the parked entries (deliveries that failed for good), with the reason. */
export async function runOutboxList(opts: { status?: string; config?: string }): Promise<number> {
  const config = loadConfigFromProcess({ configFile: opts.config })
  const handle = openDb(config.database)
  try {
    const status = (opts.status ?? 'parked') as 'parked'
    const counts = await outboxCounts(handle)
    process.stdout.write(
      `outbox: ${
        Object.entries(counts)
          .map(([s, n]) => `${s} ${n}`)
          .join(', ') || 'empty'
      }\n`,
    )
    for (const item of await listOutbox(handle, { status, limit: 200 })) {
      process.stdout.write(
        `${item.id}  ${item.topic}  attempts ${item.attempts}  ${item.updatedAt}\n    ${item.lastError ?? ''}\n`,
      )
    }
    return 0
  } finally {
    await handle.close()
  }
}

/** `kaguan outbox retry <id>… | --all`: sends parked entries again once the cause is fixed. */
export async function runOutboxRetry(
  opts: { all?: boolean; config?: string },
  ids: string[],
): Promise<number> {
  if (!opts.all && !ids.length) {
    throw new UsageError('name the entries to retry, or --all')
  }
  const config = loadConfigFromProcess({ configFile: opts.config })
  const handle = openDb(config.database)
  try {
    const n = await retryParked({ db: handle.db, clock: systemClock }, opts.all ? 'all' : ids)
    process.stdout.write(`${n} parked entr${n === 1 ? 'y' : 'ies'} will be delivered again\n`)
    return 0
  } finally {
    await handle.close()
  }
}
