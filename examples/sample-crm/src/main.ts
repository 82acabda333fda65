/**
 * Runs the sample CRM standalone:
 *
 *   node scripts/run-ts.mjs examples/sample-crm/src/main.ts --token <token> \
 *     --private-key-file crm-private.pem --core-url http://127.0.0.1:8083
 *
 * Every option also reads an environment variable (SAMPLE_CRM_HOST, SAMPLE_CRM_PORT,
 * SAMPLE_CRM_TOKEN, SAMPLE_CRM_PRIVATE_KEY_FILE, KAGUAN_CORE_URL, SAMPLE_CRM_DATA_FILE,
 * SAMPLE_CRM_LEVELS).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@kaguan/crm-sdk'
import { startSampleCrm } from './sample-crm.js'

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    token: { type: 'string' },
    'private-key-file': { type: 'string' },
    'core-url': { type: 'string' },
    'data-file': { type: 'string' },
    levels: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})

const env = process.env
if (values.help) {
  console.log(
    'usage: sample-crm --token <token> [--private-key-file crm.pem] [--core-url http://127.0.0.1:8083]\n' +
      '                  [--host 127.0.0.1] [--port 8082] [--data-file var/sample-crm/members.json]\n' +
      '                  [--levels SILVER:银卡,GOLD:金卡]  the level codes of the kaguan card template, lowest first',
  )
  process.exit(0)
}

const token = values.token ?? env.SAMPLE_CRM_TOKEN
if (!token) {
  console.error(
    'sample-crm: --token (or SAMPLE_CRM_TOKEN) is required: the token configured in kaguan',
  )
  process.exit(2)
}

const keyFile = values['private-key-file'] ?? env.SAMPLE_CRM_PRIVATE_KEY_FILE
let privateKey: string
if (keyFile) {
  privateKey = readFileSync(keyFile, 'utf8')
} else {
  // Without a key the CRM still runs; the operator pastes the printed public key into kaguan.
  const pair = generateKeyPair()
  privateKey = pair.privateKey
  console.log('sample-crm: no --private-key-file; generated a key pair for this run.')
  console.log('Paste this public key into kaguan (business system → CRM public key):')
  console.log(pair.publicKey)
}

const port = Number(values.port ?? env.SAMPLE_CRM_PORT ?? 8082)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`sample-crm: invalid port ${String(values.port ?? env.SAMPLE_CRM_PORT)}`)
  process.exit(2)
}

// `CODE[:name],…` as the template's levels say (kaguan refuses a level the template lacks).
const levelsText = values.levels ?? env.SAMPLE_CRM_LEVELS
const levels = levelsText
  ?.split(',')
  .map((item) => item.trim())
  .filter(Boolean)
  .map((item) => {
    const [code = '', ...name] = item.split(':')
    return name.length ? { code: code.trim(), name: name.join(':').trim() } : { code: code.trim() }
  })

const crm = await startSampleCrm({
  ...(levels ? { levels } : {}),
  host: values.host ?? env.SAMPLE_CRM_HOST ?? '127.0.0.1',
  port,
  token,
  privateKey,
  kaguanCoreUrl: values['core-url'] ?? env.KAGUAN_CORE_URL ?? 'http://127.0.0.1:8083',
  dataFile: values['data-file'] ?? env.SAMPLE_CRM_DATA_FILE ?? 'var/sample-crm/members.json',
  log: (line) => console.log(`[${new Date().toISOString()}] ${line}`),
})
console.log(`sample CRM: members page ${crm.url}/`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void crm.close().then(() => process.exit(0))
  })
}
