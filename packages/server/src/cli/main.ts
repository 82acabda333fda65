#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { isAppError } from '../shared/errors.js'
import { runAdminCreate, runAdminResetPassword } from './commands/admin.js'
import { runConfigCheck } from './commands/config-check.js'
import { runCrmCheck } from './commands/crm-check.js'
import { runDemo } from './commands/demo.js'
import { runEmulator } from './commands/emulator.js'
import { runKeysGen, runKeysMaster } from './commands/keys.js'
import { runKeysRotateMaster } from './commands/keys-rotate.js'
import { runMigrate } from './commands/migrate.js'
import { runOutboxList, runOutboxRetry } from './commands/outbox.js'
import { runReconcile } from './commands/reconcile.js'
import { runStart } from './commands/start.js'
import { UsageError } from './usage.js'

const HELP = `kaguan (卡管): Alipay membership cards and points

Usage:
  kaguan start [--role ROLE]... [--config FILE]   run roles (default: all of management, mini, core, worker)
  kaguan demo [--data-dir DIR] [--port-offset N] [--crm-url URL --crm-token T --crm-public-key KEY|FILE]
                                                  the offline demo (npm start): emulator, every role on SQLite, sample CRM,
                                                  a published demo template; prints the URLs and claim link (and <data dir>/demo.json)
  kaguan emulator [--port 8090] [--data-dir DIR | --db FILE] [--public-url URL]
                                                  the offline Alipay (gateway, wallet, driver API) on its own;
                                                  state in <data dir>/emulator.sqlite, liveness at /healthz
  kaguan migrate [--config FILE]                  bring the database schema up to date
  kaguan config check [--role ROLE]... [--config FILE]
                                                  print the effective configuration (secrets redacted)
  kaguan keys master                              print a new master key (base64, 32 bytes)
  kaguan keys gen [--out DIR]                     create an RSA2 key pair (PKCS#8 private, SPKI public)
  kaguan keys rotate-master [--batch-size N] [--pause-ms N] [--config FILE]
                                                  re-encrypt every stored secret and personal field under masterKey, reading
                                                  the old values with masterKeyPrevious; resumable (run again after a stop)
  kaguan admin create --username NAME --role admin|operator|viewer [--merchant ID]... [--password-file FILE] [--config FILE]
                                                  create a console account; the password from the file or one line on stdin
                                                  with --merchant: an account that sees only those merchants (the role at each);
                                                  without: a platform (ISV-wide) admin
  kaguan admin reset-password --username NAME [--password-file FILE] [--config FILE]
                                                  set a new password, clear the lock-out, end the user's sessions
  kaguan crm-check --url URL --token TOKEN [--public-key KEY|FILE] [--json] [--timeout-ms N]
                   [--template ID [--config FILE]]
                                                  check a CRM's three endpoints against the contract (pass/fail table with fixes);
                                                  --template (tpl_… or Alipay's id) also checks the answered level is one of its codes
  kaguan reconcile [--merchant ID] [--limit N]    compare cards with alipay.marketing.card.query and repair drift;
                                                  compare Koubei-bound stamp accounts with points.query, report drift (exit 1)
  kaguan outbox list [--status parked|pending]    deliveries waiting or parked, with the reason
  kaguan outbox retry ID... | --all               deliver parked entries again

Settings come from a YAML file (--config or KAGUAN_CONFIG) and KAGUAN_* variables: see docs/configuration.md.
`

/**
 * The usage of one command, cut from HELP so that it is written once: the entries whose first line
 * names the command, with their indented continuation lines.
 */
function commandHelp(command: string): string | undefined {
  const entries: string[][] = []
  for (const line of HELP.split('\n')) {
    if (line.startsWith('  kaguan ')) {
      entries.push([line])
    } else if (line.startsWith('    ') && entries.length) {
      entries.at(-1)!.push(line)
    }
  }
  const mine = entries.filter((e) => e[0]!.split(/\s+/)[2] === command)
  return mine.length ? `Usage:\n${mine.map((e) => e.join('\n')).join('\n')}\n` : undefined
}

/** Exit codes: 0 ok, 1 a reported error, 2 wrong usage, 70 a bug (stack printed). */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command && (rest.includes('--help') || rest.includes('-h'))) {
    const help = commandHelp(command)
    if (help) {
      process.stdout.write(help)
      return 0
    }
  }
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP)
      return command === undefined ? 2 : 0
    case 'start':
      return runStart(
        options(rest, { role: { type: 'string', multiple: true }, config: { type: 'string' } }),
      )
    case 'demo':
      return runDemo(
        options(rest, {
          'data-dir': { type: 'string' },
          config: { type: 'string' },
          'port-offset': { type: 'string' },
          'crm-url': { type: 'string' },
          'crm-token': { type: 'string' },
          'crm-public-key': { type: 'string' },
        }),
      )
    case 'migrate':
      return runMigrate(options(rest, { config: { type: 'string' } }))
    case 'config': {
      const [sub, ...args] = rest
      if (sub !== 'check') {
        throw new UsageError(`unknown command "config ${sub ?? ''}"; did you mean "config check"?`)
      }
      return runConfigCheck(
        options(args, { role: { type: 'string', multiple: true }, config: { type: 'string' } }),
      )
    }
    case 'keys': {
      const [sub, ...args] = rest
      if (sub === 'master') {
        return runKeysMaster(options(args, {}))
      }
      if (sub === 'gen') {
        return runKeysGen(options(args, { out: { type: 'string' } }))
      }
      if (sub === 'rotate-master') {
        return runKeysRotateMaster(
          options(args, {
            config: { type: 'string' },
            'batch-size': { type: 'string' },
            'pause-ms': { type: 'string' },
          }),
        )
      }
      throw new UsageError(
        `unknown command "keys ${sub ?? ''}"; use "keys master", "keys gen" or "keys rotate-master"`,
      )
    }
    case 'admin': {
      const [sub, ...args] = rest
      const common = {
        username: { type: 'string' },
        'password-file': { type: 'string' },
        config: { type: 'string' },
      } as const
      if (sub === 'create') {
        return runAdminCreate(
          options(args, {
            ...common,
            role: { type: 'string' },
            merchant: { type: 'string', multiple: true },
          }),
        )
      }
      if (sub === 'reset-password') {
        return runAdminResetPassword(options(args, common))
      }
      throw new UsageError(
        `unknown command "admin ${sub ?? ''}"; use "admin create" or "admin reset-password"`,
      )
    }
    case 'crm-check':
      return runCrmCheck(
        options(rest, {
          url: { type: 'string' },
          token: { type: 'string' },
          'public-key': { type: 'string' },
          json: { type: 'boolean' },
          'timeout-ms': { type: 'string' },
          template: { type: 'string' },
          config: { type: 'string' },
        }),
      )
    case 'emulator':
      return runEmulator(
        options(rest, {
          port: { type: 'string' },
          host: { type: 'string' },
          db: { type: 'string' },
          'data-dir': { type: 'string' },
          'public-url': { type: 'string' },
          config: { type: 'string' },
        }),
      )
    case 'reconcile':
      return runReconcile(
        options(rest, {
          merchant: { type: 'string' },
          limit: { type: 'string' },
          config: { type: 'string' },
        }),
      )
    case 'outbox': {
      const [sub, ...args] = rest
      if (sub === 'list') {
        return runOutboxList(
          options(args, { status: { type: 'string' }, config: { type: 'string' } }),
        )
      }
      if (sub === 'retry') {
        const parsed = withPositionals(args, {
          all: { type: 'boolean' },
          config: { type: 'string' },
        })
        return runOutboxRetry(parsed.values, parsed.positionals)
      }
      throw new UsageError(
        `unknown command "outbox ${sub ?? ''}"; use "outbox list" or "outbox retry"`,
      )
    }
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>

function options<T extends OptionSpec>(args: string[], spec: T) {
  try {
    return parseArgs({ args, options: spec, allowPositionals: false, strict: true }).values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

function withPositionals<T extends OptionSpec>(args: string[], spec: T) {
  try {
    return parseArgs({ args, options: spec, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`kaguan: ${error.message}\n\n${HELP}`)
      process.exitCode = 2
    } else if (isAppError(error)) {
      process.stderr.write(`kaguan: ${error.message}\n`)
      process.exitCode = 1
    } else {
      process.stderr.write(
        `kaguan: unexpected error (a bug; please report it with this trace)\n${(error as Error)?.stack ?? String(error)}\n`,
      )
      process.exitCode = 70
    }
  },
)
