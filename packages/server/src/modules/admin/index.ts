export type { AdminUsersTable } from './admin.table.js'
