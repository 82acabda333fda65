import { SingleBar } from 'cli-progress'
import { loadConfigFromProcess } from '../../config.js'
import { openDb } from '../../db/db.js'
import { migrateToLatest } from '../../db/migrate.js'
import { createDeps } from '../../deps.js'
import { rotateMasterKey, type RotationProgress } from '../../modules/keys/index.js'
import { masterKeyId } from '../../shared/field-crypto.js'
import { createLogger } from '../../shared/log.js'
import { UsageError } from '../usage.js'

function wholeNumber(name: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) {
    return undefined
  }
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`)
  }
  return n
}

/**
 * `kaguan keys rotate-master`: re-encrypts every stored secret and personal field under the
 * configured `masterKey`, reading what is still under `masterKeyPrevious`. Resumable: interrupted
 * (Ctrl-C, kill -9, a crash), run it again and it continues from the last committed batch. A bar on
 * a terminal, a plain line a second otherwise.
 */
export async function runKeysRotateMaster(opts: {
  config?: string
  'batch-size'?: string
  'pause-ms'?: string
}): Promise<number> {
  const batchSize = wholeNumber('batch-size', opts['batch-size'], 1, 10_000) ?? 200
  const pauseMs = wholeNumber('pause-ms', opts['pause-ms'], 0, 60_000) ?? 0
  const config = loadConfigFromProcess({ configFile: opts.config, requireMasterKey: true })
  const handle = openDb(config.database)
  const out = (line: string) => process.stdout.write(`${line}\n`)
  const controller = new AbortController()
  const onSigint = () => {
    out('\nstopping after the batch in progress; run the command again to continue')
    controller.abort()
  }
  process.once('SIGINT', onSigint)
  const tty = process.stdout.isTTY === true
  const bar = tty
    ? new SingleBar({
        format:
          're-encrypting {part} |{bar}| {percentage}% | {value}/{total} rows | {eta_formatted}',
        hideCursor: true,
      })
    : undefined
  try {
    await migrateToLatest(handle.db)
    const deps = createDeps(config, {
      db: handle.db,
      dialect: handle.dialect,
      log: createLogger({ level: 'warn' }),
    })
    out(
      `rotate-master: re-encrypting under master key ${deps.cipher.keyId}` +
        (config.masterKeyPrevious
          ? `, reading values still under ${masterKeyId(config.masterKeyPrevious)} (masterKeyPrevious)`
          : ' (no masterKeyPrevious configured: only values already readable with masterKey can be rewritten)'),
    )
    let current: string | undefined
    let lastLine = 0
    const show = (p: RotationProgress) => {
      if (bar) {
        if (current !== p.part) {
          if (current !== undefined) {
            bar.stop()
          }
          current = p.part
          bar.start(Math.max(p.rows, p.scanned), p.scanned, { part: p.part })
        }
        bar.setTotal(Math.max(p.rows, p.scanned))
        bar.update(p.scanned, { part: p.part })
        return
      }
      const now = Date.now()
      if (p.finished || current !== p.part || now - lastLine >= 1000) {
        current = p.part
        lastLine = now
        out(
          `rotate-master: ${p.part} ${p.scanned}/${Math.max(p.rows, p.scanned)} rows, ${p.rewritten} re-encrypted${p.finished ? ' (done)' : ''}`,
        )
      }
    }
    const result = await rotateMasterKey(deps, {
      batchSize,
      pauseMs,
      onProgress: show,
      signal: controller.signal,
    })
    bar?.stop()
    const rewritten = result.parts.reduce((n, p) => n + p.rewritten, 0)
    if (result.interrupted) {
      out(
        `rotate-master: interrupted; ${rewritten} row(s) re-encrypted so far. Run it again to continue; keep masterKeyPrevious meanwhile`,
      )
      return 1
    }
    out(
      `rotate-master: done. Every stored secret and personal field is under master key ${result.keyId} (${rewritten} row(s) re-encrypted).\n` +
        'The previous master key is no longer needed: remove masterKeyPrevious (KAGUAN_MASTER_KEY_PREVIOUS_FILE) from every kaguan process, restart them, then destroy the old key (docs/operations.md).',
    )
    return 0
  } finally {
    bar?.stop()
    process.off('SIGINT', onSigint)
    await handle.close()
  }
}
