import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..', '..')
const modules = join(root, 'packages', 'server', 'src', 'modules')

/** The codes a module's catalogue answers with: its quoted UPPER_SNAKE literals. */
function catalogueCodes(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...new Set([...text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)].map((m) => m[1]!))]
}

describe('error catalogues and docs/errcodes.md', () => {
  const catalogues = readdirSync(modules).flatMap((m) =>
    readdirSync(join(modules, m))
      .filter((f) => f.endsWith('.errors.ts'))
      .map((f) => join(modules, m, f)),
  )
  const doc = readFileSync(join(root, 'docs', 'errcodes.md'), 'utf8')

  it('finds a catalogue in every module that answers with its own codes', () => {
    expect(catalogues.length).toBeGreaterThanOrEqual(7)
    for (const file of catalogues) {
      expect(catalogueCodes(file).length, file).toBeGreaterThan(0)
    }
  })

  it('documents every code a catalogue declares, with its meaning and fix', () => {
    const missing = catalogues.flatMap((file) =>
      catalogueCodes(file).filter((code) => !doc.includes(`\`${code}\``)),
    )
    expect(missing).toEqual([])
  })
})
