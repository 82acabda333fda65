import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = new URL('../../../', import.meta.url).pathname
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs')

interface Violation {
  rule: { name: string }
  from: string
  to: string
}

/** Runs the project's real dependency-cruiser rules over a folder laid out like the repo. */
function cruise(cwd: string): Promise<{ violations: Violation[] }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        depcruise,
        'packages',
        '--config',
        join(root, '.dependency-cruiser.cjs'),
        '--output-type',
        'json',
      ],
      { cwd, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
      (_error, stdout) => {
        const result = JSON.parse(stdout) as { summary: { violations: Violation[] } }
        resolve({ violations: result.summary.violations })
      },
    )
  })
}

describe('dependency rules', () => {
  it('fail on deliberate violations, naming each rule, and pass a module using its own repository', async () => {
    const { violations } = await cruise(join(root, 'packages/server/test/fixtures/dep-rules'))
    const found = violations.map((v) => `${v.rule.name}: ${v.from}`).sort()
    expect(found).toEqual([
      'console-contracts-only: packages/console/src/uses-alipay.ts',
      'emulator-is-a-third-party: packages/emulator/src/uses-server.ts',
      'module-private-outside: packages/server/src/http/uses-repository.ts',
      'module-private-outside: packages/server/src/http/uses-service.ts',
      'modules-never-import-fastify: packages/server/src/modules/cards/uses-fastify.ts',
      'only-server-runs-the-server: packages/emulator/src/uses-server.ts',
    ])
  })
})
