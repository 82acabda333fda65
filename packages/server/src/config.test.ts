import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, redactedConfig, settingsReference } from './config.js'
import { AppError } from './shared/errors.js'
import { generateMasterKey } from './shared/field-crypto.js'

function problems(fn: () => unknown): { field: string; message: string }[] {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(AppError)
    expect((error as AppError).code).toBe('CONFIG_INVALID')
    return (error as AppError).details.fields as { field: string; message: string }[]
  }
  throw new Error('expected loadConfig to fail')
}

describe('loadConfig', () => {
  it('uses the embedded defaults: all roles, the seed ports, SQLite in the data folder', () => {
    const config = loadConfig({ env: {}, cwd: '/srv/kaguan' })
    expect(config.roles).toEqual(['management', 'mini', 'core', 'worker'])
    expect(config.ports).toMatchObject({ management: 8080, mini: 8081, core: 8083 })
    expect(config.database).toEqual({
      url: 'sqlite:/srv/kaguan/var/kaguan.sqlite',
      dialect: 'sqlite',
      poolSize: 10,
    })
    expect(config.host).toBe('127.0.0.1')
  })

  it('names an unknown role by the variable it came from', () => {
    const found = problems(() => loadConfig({ env: { KAGUAN_ROLES: 'core,frontend' } }))
    expect(found).toEqual([
      { field: 'KAGUAN_ROLES', message: expect.stringContaining('"frontend"') },
    ])
  })

  it('names an unknown role given on the command line as --role', () => {
    const found = problems(() => loadConfig({ env: {}, overrides: { roles: ['mini', 'gateway'] } }))
    expect(found[0]?.field).toBe('--role')
  })

  it('rejects a malformed database URL and one of an unknown kind, hiding the password', () => {
    const bad = problems(() =>
      loadConfig({ env: { KAGUAN_DATABASE_URL: 'postgres://kaguan:hunter2@:port/db' } }),
    )
    expect(bad[0]?.field).toBe('KAGUAN_DATABASE_URL')
    expect(bad[0]?.message).not.toContain('hunter2')
    const other = problems(() => loadConfig({ env: { KAGUAN_DATABASE_URL: 'mysql://x@y/z' } }))
    expect(other[0]?.message).toMatch(/sqlite:<file> or postgres:/)
  })

  it('accepts postgres and postgresql URLs', () => {
    expect(
      loadConfig({ env: { KAGUAN_DATABASE_URL: 'postgresql://u:p@db.internal:5432/kaguan' } })
        .database.dialect,
    ).toBe('postgres')
  })

  it('requires the master key where encryption is needed, and says how to make one', () => {
    const found = problems(() => loadConfig({ env: {}, requireMasterKey: true }))
    expect(found[0]?.field).toBe('KAGUAN_MASTER_KEY_FILE')
    expect(found[0]?.message).toContain('kaguan keys master')
    expect(() => loadConfig({ env: {} })).not.toThrow()
  })

  it('rejects a master key that is not 32 bytes', () => {
    const found = problems(() => loadConfig({ env: { KAGUAN_MASTER_KEY: 'c2hvcnQ=' } }))
    expect(found[0]?.field).toBe('KAGUAN_MASTER_KEY')
  })

  it('reads secrets from files and YAML settings, with the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaguan-config-'))
    const key = generateMasterKey()
    writeFileSync(join(dir, 'master.key'), `${key}\n`)
    writeFileSync(
      join(dir, 'kaguan.yaml'),
      'roles: [core, worker]\nports:\n  core: 9083\nmasterKeyFile: master.key\nlog:\n  level: warn\n',
    )
    const config = loadConfig({
      env: { KAGUAN_CONFIG: join(dir, 'kaguan.yaml'), KAGUAN_LOG_LEVEL: 'error' },
    })
    expect(config.roles).toEqual(['core', 'worker'])
    expect(config.ports.core).toBe(9083)
    expect(config.masterKey?.toString('base64')).toBe(key)
    expect(config.log.level).toBe('error')
    const viaFile = loadConfig({ env: { KAGUAN_MASTER_KEY_FILE: join(dir, 'master.key') } })
    expect(viaFile.masterKey?.toString('base64')).toBe(key)
  })

  it('reports every problem at once: unknown keys in the file and in the environment, bad ports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaguan-config-'))
    writeFileSync(join(dir, 'kaguan.yaml'), 'ports:\n  core: 99999\ndatabse:\n  url: sqlite:x\n')
    const found = problems(() =>
      loadConfig({ env: { KAGUAN_CONFIG: join(dir, 'kaguan.yaml'), KAGUAN_PORTT: '1' } }),
    )
    expect(found.map((p) => p.field).sort()).toEqual(['KAGUAN_PORTT', 'databse.url', 'ports.core'])
  })

  it('refuses two roles on one port', () => {
    const found = problems(() => loadConfig({ env: { KAGUAN_MINI_PORT: '8080' } }))
    expect(found[0]).toEqual({
      field: 'ports.mini',
      message: 'port 8080 is already used by role management',
    })
  })

  it('redacts the master key and database password in the printable view', () => {
    const key = generateMasterKey()
    const config = loadConfig({
      env: { KAGUAN_MASTER_KEY: key, KAGUAN_DATABASE_URL: 'postgres://kaguan:s3cret@db/kaguan' },
    })
    const text = JSON.stringify(redactedConfig(config))
    expect(text).not.toContain(key)
    expect(text).not.toContain('s3cret')
    expect(text).toContain('postgres://kaguan:***@db/kaguan')
  })
})

/**
 * A setting is declared once, in config.ts's schema. These tests fail when something else would
 * need a second edit: the documented table, or `kaguan config check`'s output.
 */
describe('the settings schema', () => {
  const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8')

  it('is the table in docs/configuration.md, row for row (paste the expected table there)', () => {
    const cell = (v: unknown) =>
      v === undefined
        ? '—'
        : typeof v === 'number'
          ? String(v)
          : `\`${Array.isArray(v) ? v.join(',') : String(v)}\``
    const expected = [
      '| YAML key | variable | default | meaning |',
      '|---|---|---|---|',
      ...settingsReference().map(
        (r) => `| \`${r.key}\` | \`${r.env}\` | ${cell(r.default)} | ${r.doc} |`,
      ),
    ].join('\n')
    const documented = /<!-- settings:[^\n]*\n([\s\S]*?)\n<!-- \/settings -->/.exec(docs)?.[1]
    expect(documented).toBe(expected)
  })

  it('knows every KAGUAN_* variable the page names, and the page names every setting', () => {
    const named = new Set(docs.match(/KAGUAN_[A-Z_]*[A-Z]/g))
    const declared = new Set([...settingsReference().map((r) => r.env), 'KAGUAN_CONFIG'])
    expect([...named].sort()).toEqual([...declared].sort())
  })

  it('reads every variable it declares: an empty one is refused, not ignored', () => {
    const env = { KAGUAN_MASTER_KEY: generateMasterKey() }
    for (const { env: name } of settingsReference()) {
      expect(() => loadConfig({ env: { ...env, [name]: '' } }), name).toThrow(AppError)
    }
  })

  it('drives `kaguan config check`: every setting is printed, secrets hidden', () => {
    const view = redactedConfig(loadConfig({ env: {} }))
    for (const { key } of settingsReference()) {
      if (!key.endsWith('File')) {
        const value = key.split('.').reduce<unknown>((node, part) => (node as never)?.[part], view)
        expect(value, key).not.toBeUndefined()
      }
    }
    expect(view.masterKey).toBe('<not set>')
  })
})
