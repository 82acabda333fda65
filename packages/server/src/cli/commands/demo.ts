import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfigFromProcess, type Config } from '../../config.js'
import { startKaguan } from '../../roles/start.js'
import { generateMasterKey, parseMasterKey } from '../../shared/field-crypto.js'
import { createLogger } from '../../shared/log.js'
import { untilSignal } from './start.js'

/**
 * `npm start`: every role on the embedded SQLite default. A development master key is created in
 * the data folder on first run, so a fresh clone needs no set-up (production sets its own).
 */
export async function runDemo(opts: { 'data-dir'?: string; config?: string }): Promise<number> {
  const loaded = loadConfigFromProcess({ configFile: opts.config })
  const dataDir = opts['data-dir'] ?? loaded.dataDir
  const config: Config = {
    ...loaded,
    dataDir,
    database: opts['data-dir'] ? { url: `sqlite:${join(dataDir, 'kaguan.sqlite')}`, dialect: 'sqlite' } : loaded.database,
    masterKey: loaded.masterKey ?? devMasterKey(dataDir),
  }
  const log = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level })
  const running = await startKaguan(config, { log })
  const lines = [
    '',
    'kaguan is running (embedded SQLite at ' + config.database.url.replace(/^sqlite:/, '') + ')',
    ...Object.entries(running.urls).map(([role, url]) => `  ${role.padEnd(11)} ${url}   (${url}/readyz)`),
    '',
    'Press Ctrl-C to stop.',
    '',
  ]
  process.stdout.write(lines.join('\n'))
  return untilSignal(running, config, log)
}

function devMasterKey(dataDir: string): Buffer {
  const file = join(dataDir, 'master.key')
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(file, `${generateMasterKey()}\n`, { mode: 0o600 })
    process.stdout.write(`created a development master key in ${file} (keep it: it decrypts this data folder)\n`)
  }
  return parseMasterKey(readFileSync(file, 'utf8'))
}
