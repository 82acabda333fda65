/** Request/response schemas shared by the kaguan server, console and CLI. */
export * from './common.js'
export * from './merchants.js'
export * from './templates.js'
export * from './admin-auth.js'
export * from './paging.js'
export * from './operations.js'
export * from './stamps.js'
export * from './keys.js'
