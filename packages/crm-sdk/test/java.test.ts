import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixturePath, repoRoot, signVectors } from './fixtures.js'

function hasJdk(): boolean {
  const probe = (cmd: string) => spawnSync(cmd, ['-version'], { encoding: 'utf8' }).status === 0
  return probe('javac') && probe('java')
}

const jdk = hasJdk()
const requireJdk = process.env.KAGUAN_TEST_REQUIRE_JDK === '1'
if (!jdk && !requireJdk) {
  console.warn(
    'crm-sdk: javac/java not on PATH: skipping the Java SignHelper cross-check ' +
      '(set KAGUAN_TEST_REQUIRE_JDK=1 to make this a failure)',
  )
}

describe.skipIf(!jdk && !requireJdk)('docs/java/SignHelper.java', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'kaguan-signhelper-'))
  afterAll(() => rmSync(outDir, { recursive: true, force: true }))

  it('is on PATH when KAGUAN_TEST_REQUIRE_JDK=1', () => {
    expect(jdk, 'javac and java must be on PATH').toBe(true)
  })

  it('compiles and prints the same canonical strings and signatures as the vectors', () => {
    const compile = spawnSync(
      'javac',
      ['-encoding', 'UTF-8', '-d', outDir, join(repoRoot, 'docs/java/SignHelper.java')],
      { encoding: 'utf8', timeout: 120_000 },
    )
    expect(compile.stderr).toBe('')
    expect(compile.status).toBe(0)
    const run = spawnSync(
      'java',
      ['-cp', outDir, 'SignHelper', fixturePath('crm-test-private.pem')],
      // A C locale must not garble the Chinese vectors: the helper prints UTF-8 itself.
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, LANG: 'C', LC_ALL: 'C' } },
    )
    expect(run.status, run.stderr).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    const printed = lines.map((line) => {
      const [id, canonical, sign] = line.split('\t')
      return { id, canonical, sign }
    })
    expect(printed).toEqual(
      signVectors.map((v) => ({ id: v.id, canonical: v.canonical, sign: v.sign })),
    )
  }, 120_000)
})
