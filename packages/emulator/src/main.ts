import { parseArgs } from 'node:util'
import { startEmulator } from './index.js'

/**
 * `node scripts/run-ts.mjs packages/emulator/src/main.ts [--port 8090] [--host 127.0.0.1] [--db file]
 * [--public-url URL] [--notify-time-factor 0.0167] [--log]`: runs the emulator until SIGINT/SIGTERM.
 */
const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    db: { type: 'string' },
    'public-url': { type: 'string' },
    'notify-time-factor': { type: 'string' },
    log: { type: 'boolean' },
  },
})

const emulator = await startEmulator({
  ...(values.host !== undefined ? { host: values.host } : {}),
  ...(values.port !== undefined ? { port: Number(values.port) } : {}),
  ...(values.db !== undefined ? { dbFile: values.db } : {}),
  ...(values['public-url'] !== undefined ? { publicUrl: values['public-url'] } : {}),
  ...(values['notify-time-factor'] !== undefined
    ? { notifyTimeFactor: Number(values['notify-time-factor']) }
    : {}),
  log: values.log === true,
})
console.log(`alipay-emulator: gateway ${emulator.gatewayUrl}, wallet ${emulator.url}/wallet`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0))
  })
}
