import { defineProject } from 'vitest/config'

/** The settings every package's tests share: workspace packages resolve to their sources. */
export function kaguanProject(name: string, extra: { setupFiles?: string[]; testTimeout?: number } = {}) {
  return defineProject({
    resolve: { conditions: ['@kaguan/source', 'module', 'node', 'default'] },
    ssr: { resolve: { conditions: ['@kaguan/source', 'module', 'node', 'default'], externalConditions: ['@kaguan/source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: extra.testTimeout ?? 20_000,
      hookTimeout: 60_000,
      setupFiles: extra.setupFiles ?? [],
    },
  })
}
