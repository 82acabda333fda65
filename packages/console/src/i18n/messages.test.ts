import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { en } from './en.js'
import { zhCN } from './zh-CN.js'

const src = new URL('..', import.meta.url).pathname

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) {
      return sources(path)
    }
    return /\.tsx?$/.test(name) && !name.endsWith('.test.ts') ? [path] : []
  })
}

function lookup(messages: object, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>(
      (node, part) => (node as Record<string, unknown> | undefined)?.[part],
      messages,
    )
}

/** Every literal key the components pass to t() (and the rule/advice keys the lib returns). */
const keys = [
  ...new Set(
    sources(src).flatMap((file) => {
      const text = readFileSync(file, 'utf8')
      return [
        ...[...text.matchAll(/\bt\('([a-zA-Z0-9_.]+)'/g)].map((m) => m[1]!),
        ...[...text.matchAll(/'((?:templates\.rules|advice|stamps\.advice)\.[a-zA-Z]+)'/g)].map(
          (m) => m[1]!,
        ),
      ]
    }),
  ),
]

describe('messages', () => {
  it('has a Chinese and an English text for every key the console uses', () => {
    expect(keys.length).toBeGreaterThan(100)
    const missing = keys.filter(
      (k) => typeof lookup(zhCN, k) !== 'string' || typeof lookup(en, k) !== 'string',
    )
    expect(missing).toEqual([])
  })
})
