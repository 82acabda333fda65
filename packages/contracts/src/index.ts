/** Request/response schemas shared by the kaguan server, console and CLI. */
export * from './common.js'
