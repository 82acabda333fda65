/** The kaguan server as a library: what tests, benchmarks and the demo start it with. */
export { loadConfig, redactedConfig, Roles, type Config, type Role } from './config.js'
export { startKaguan, type RunningKaguan } from './roles/start.js'
export { createLogger } from './shared/log.js'
