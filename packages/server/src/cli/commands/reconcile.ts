import { loadConfigFromProcess } from '../../config.js'
import { openDb } from '../../db/db.js'
import { migrateToLatest } from '../../db/migrate.js'
import { createDeps } from '../../deps.js'
import { reconcileCards } from '../../modules/cards/index.js'
import { DEFAULT_MERCHANT_ID } from '../../modules/merchants/index.js'
import { reconcileStamps } from '../../modules/stamps/index.js'
import { AppError, ErrorKind } from '../../shared/errors.js'
import { createLogger } from '../../shared/log.js'

/**
 * `kaguan reconcile`: compares every active card of a merchant with alipay.marketing.card.query and
 * repairs drift (cards gone from the wallet are deleted and the CRM told; differing values are
 * pushed again by the worker). Then the stamps check: the stamp accounts of Koubei-bound
 * activities against koubei.marketing.tool.points.query; kaguan's ledger is the truth, so a
 * difference is reported (exit code 1), not copied back.
 */
export async function runReconcile(opts: {
  merchant?: string
  limit?: string
  config?: string
}): Promise<number> {
  const config = loadConfigFromProcess({ configFile: opts.config, requireMasterKey: true })
  const limit = opts.limit === undefined ? undefined : Number(opts.limit)
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new AppError(ErrorKind.Invalid, 'REQUEST_INVALID', '--limit must be a whole number ≥ 1')
  }
  const handle = openDb(config.database)
  try {
    await migrateToLatest(handle.db)
    const deps = createDeps(config, {
      db: handle.db,
      dialect: handle.dialect,
      log: createLogger({ level: 'warn' }),
    })
    const merchantId = opts.merchant ?? DEFAULT_MERCHANT_ID
    // Progress on a terminal only (one line rewritten in place), so piped output stays the report.
    const tty = process.stderr.isTTY === true
    let shown = 0
    const report = await reconcileCards(deps, merchantId, {
      ...(limit === undefined ? {} : { limit }),
      onProgress(checked, total) {
        const now = Date.now()
        if (tty && (checked === total || now - shown >= 200)) {
          shown = now
          process.stderr.write(`\rchecking cards: ${checked}/${total}`)
          if (checked === total) {
            process.stderr.write('\n')
          }
        }
      },
    })
    process.stdout.write(
      `reconciled ${report.checked} card(s) of ${merchantId} with Alipay:\n` +
        `  in step:       ${report.checked - report.repushed.length - report.deleted.length - report.failed.length}\n` +
        `  pushed again:  ${report.repushed.length}${report.repushed.length ? ` (${report.repushed.join(', ')})` : ''}\n` +
        `  gone, deleted: ${report.deleted.length}${report.deleted.length ? ` (${report.deleted.join(', ')})` : ''}\n` +
        `  not checked:   ${report.failed.length}\n` +
        report.failed.map((f) => `    ${f.cardId}: ${f.error}\n`).join(''),
    )
    const stamps = await reconcileStamps(deps, merchantId, limit === undefined ? {} : { limit })
    process.stdout.write(
      `compared ${stamps.checked} stamp account(s) of ${merchantId} with Koubei:\n` +
        `  in step:       ${stamps.inStep}\n` +
        `  drift:         ${stamps.drift.length}\n` +
        stamps.drift
          .map(
            (d) =>
              `    ${d.accountId} (member ${d.memberId}, activity ${d.activityId}): ` +
              `kaguan total/available/frozen ${d.kaguan.total}/${d.kaguan.available}/${d.kaguan.frozen}, ` +
              `Koubei ${d.koubei.total}/${d.koubei.available}/${d.koubei.frozen}\n`,
          )
          .join('') +
        `  mirror queued: ${stamps.inFlight} (not compared; run again once the worker sent them)\n` +
        `  not checked:   ${stamps.failed.length}\n` +
        stamps.failed.map((f) => `    ${f.accountId}: ${f.error}\n`).join(''),
    )
    return report.failed.length || stamps.drift.length || stamps.failed.length ? 1 : 0
  } finally {
    await handle.close()
  }
}
