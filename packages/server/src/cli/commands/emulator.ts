import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { startEmulator } from '@kaguan/emulator'
import { loadConfigFromProcess } from '../../config.js'
import { AppError, ErrorKind } from '../../shared/errors.js'

/**
 * `kaguan emulator`: the offline Alipay on its own (default 127.0.0.1:8090), its state kept in
 * `<data dir>/emulator.sqlite`, until Ctrl-C.
 */
export async function runEmulator(opts: {
  port?: string
  host?: string
  db?: string
  /** As for `demo`: the folder whose emulator.sqlite keeps the state (KAGUAN_DATA_DIR otherwise). */
  'data-dir'?: string
  'public-url'?: string
  config?: string
}): Promise<number> {
  const config = loadConfigFromProcess({ configFile: opts.config })
  if (opts.db && opts['data-dir']) {
    throw new AppError(
      ErrorKind.Invalid,
      'REQUEST_INVALID',
      '--db and --data-dir both name where the state goes: give one of them',
    )
  }
  const port = Number(opts.port ?? 8090)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AppError(
      ErrorKind.Invalid,
      'REQUEST_INVALID',
      `--port "${opts.port}" is not a port number`,
    )
  }
  const dataDir = opts['data-dir'] ? resolve(opts['data-dir']) : config.dataDir
  if (!opts.db) {
    mkdirSync(dataDir, { recursive: true })
  }
  const emulator = await startEmulator({
    host: opts.host ?? config.host,
    port,
    dbFile: opts.db ?? join(dataDir, 'emulator.sqlite'),
    ...(opts['public-url'] ? { publicUrl: opts['public-url'] } : {}),
  })
  process.stdout.write(
    `Alipay emulator on ${emulator.url}\n  gateway ${emulator.gatewayUrl}\n  wallet  ${emulator.url}/wallet\n  driver  ${emulator.url}/__emulator (see packages/emulator/README.md)\nPress Ctrl-C to stop.\n`,
  )
  await new Promise<void>((resolve) => {
    // `on`, not `once`: a Ctrl-C relayed by the npm/tsx wrappers arrives twice.
    process.on('SIGINT', () => resolve())
    process.on('SIGTERM', () => resolve())
  })
  await emulator.close()
  return 0
}
