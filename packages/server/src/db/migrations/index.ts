import type { Migration } from 'kysely'
import * as foundation from './2026_11_21_0000_foundation.js'

/**
 * Every migration, in order. Listed here rather than read from the folder so the same list works
 * from sources (tsx, vitest) and from the built files.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_21_0000_foundation': foundation,
}
