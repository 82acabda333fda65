import { stringify } from 'yaml'
import { loadConfigFromProcess, redactedConfig } from '../../config.js'

/** Prints the effective configuration, secrets redacted; a bad one throws CONFIG_INVALID (exit 1). */
export function runConfigCheck(opts: { role?: string[]; config?: string }): number {
  const config = loadConfigFromProcess({
    configFile: opts.config,
    overrides: { roles: opts.role },
    requireMasterKey: true,
  })
  process.stdout.write(`# kaguan configuration: valid\n${stringify(redactedConfig(config))}`)
  return 0
}
