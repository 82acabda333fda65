import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { canonicalString, signParams, verifyParams } from '../src/index.js'
import { repoRoot, signVectors, testKeys } from './fixtures.js'

const doc = readFileSync(join(repoRoot, 'docs/crm-integration.md'), 'utf8')

/** The vector sections of the doc: `<!-- vector: id -->` up to the next marker or heading `## `. */
function docSections(): Map<string, string> {
  const sections = new Map<string, string>()
  const marker = /<!-- vector: ([\w-]+) -->/g
  const hits = [...doc.matchAll(marker)]
  hits.forEach((hit, i) => {
    const start = hit.index + hit[0].length
    const next = hits[i + 1]?.index ?? doc.length
    const heading = doc.indexOf('\n## ', start)
    const end = heading >= 0 && heading < next ? heading : next
    sections.set(hit[1] ?? '', doc.slice(start, end))
  })
  return sections
}

/** The fenced block that follows a label line such as "String to sign:". */
function blockAfter(section: string, label: string, lang: string): string | undefined {
  const at = section.indexOf(label)
  if (at < 0) {
    return undefined
  }
  const fence = '```' + lang + '\n'
  const open = section.indexOf(fence, at)
  const close = section.indexOf('\n```', open + fence.length)
  if (open < 0 || close < 0) {
    return undefined
  }
  return section.slice(open + fence.length, close)
}

describe('signature test vectors (test/fixtures/sign-vectors.json)', () => {
  it('cover the cases the spec promises', () => {
    const ids = signVectors.map((v) => v.id)
    expect(ids).toEqual(
      expect.arrayContaining([
        'update-plain',
        'update-empty-and-sign',
        'update-replay-guard',
        'update-chinese',
      ]),
    )
    const withEmpty = signVectors.find((v) => v.id === 'update-empty-and-sign')
    expect(withEmpty?.params).toHaveProperty('sign')
    expect(Object.values(withEmpty?.params ?? {})).toContain('')
  })

  for (const vector of signVectors) {
    it(`${vector.id}: canonical string and signature are recomputed exactly`, () => {
      expect(canonicalString(vector.params)).toBe(vector.canonical)
      expect(signParams(vector.params, testKeys.privateKey)).toBe(vector.sign)
      expect(verifyParams({ ...vector.params, sign: vector.sign }, testKeys.publicKey)).toBe(true)
    })
  }
})

describe('docs/crm-integration.md shows the same vectors', () => {
  const sections = docSections()

  it('has one section per vector and no stray ones', () => {
    expect([...sections.keys()].sort()).toEqual(signVectors.map((v) => v.id).sort())
  })

  for (const vector of signVectors) {
    it(`${vector.id}: parameters, string to sign and signature match the fixture`, () => {
      const section = sections.get(vector.id) ?? ''
      const params = blockAfter(section, 'Parameters:', 'json')
      expect(params, 'parameters block').toBeDefined()
      expect(JSON.parse(params ?? 'null')).toEqual(vector.params)
      expect(blockAfter(section, 'String to sign:', 'text')).toBe(vector.canonical)
      expect(blockAfter(section, 'Signature (sign):', 'text')).toBe(vector.sign)
    })
  }

  it('publishes the same TEST key pair as the fixtures', () => {
    const pem = (text: string) => /-----BEGIN [\s\S]+?-----END [A-Z ]+-----/.exec(text)?.[0]
    expect(doc).toContain(pem(testKeys.publicKey))
    expect(doc).toContain(pem(testKeys.privateKey))
  })

  it('includes docs/java/SignHelper.java verbatim', () => {
    const java = readFileSync(join(repoRoot, 'docs/java/SignHelper.java'), 'utf8')
    const block = /```java\n([\s\S]*?)\n```/.exec(doc)?.[1]
    expect(block).toBe(java.trimEnd())
  })
})
