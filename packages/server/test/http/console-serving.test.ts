import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRoleApp, type RoleApp } from '../../src/http/app.js'
import { CONSOLE_CSP } from '../../src/http/management/console.js'
import { registerManagement } from '../../src/http/management/index.js'
import { createTestDb, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'

// What `vite build` writes: an index.html that loads hashed files from /assets, no inline script.
const INDEX_HTML =
  '<!doctype html><html><head><script type="module" crossorigin src="/assets/index-Bx1.js"></script></head><body><div id="root"></div></body></html>'

describe('the management role serves the console', () => {
  let db: TestDb
  let withConsole: RoleApp
  let without: RoleApp
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kaguan-console-'))
    mkdirSync(join(dir, 'assets'))
    writeFileSync(join(dir, 'index.html'), INDEX_HTML)
    writeFileSync(join(dir, 'assets', 'index-Bx1.js'), 'console.log("console")')
    db = await createTestDb('sqlite')
    const deps = testDeps(db)
    withConsole = await buildRoleApp('management', deps, (scope) =>
      registerManagement(scope, deps, { consoleDir: dir }),
    )
    without = await buildRoleApp('management', deps, (scope) =>
      registerManagement(scope, deps, { consoleDir: null }),
    )
  })
  afterAll(async () => {
    await withConsole.close()
    await without.close()
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers / with index.html under a CSP that allows file scripts only', async () => {
    const res = await withConsole.inject('/')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.body).toBe(INDEX_HTML)
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP)
    expect(CONSOLE_CSP).toContain("script-src 'self';")
    expect(res.headers['cache-control']).toBe('no-cache')
    expect(res.headers['x-frame-options']).toBe('DENY')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })

  it('serves hashed assets as long-cached files', async () => {
    const res = await withConsole.inject('/assets/index-Bx1.js')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/javascript/)
    expect(res.body).toBe('console.log("console")')
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable')
  })

  it("falls back to index.html for the console's own routes, so a reload works", async () => {
    for (const url of ['/members/mbr_1', '/templates/tpl_1/edit?tab=style', '/login']) {
      const res = await withConsole.inject(url)
      expect(res.statusCode, url).toBe(200)
      expect(res.body, url).toBe(INDEX_HTML)
      expect(res.headers['content-security-policy'], url).toBe(CONSOLE_CSP)
    }
    // Only GET: a POST to a console path is not a page.
    expect((await withConsole.inject({ method: 'POST', url: '/members' })).statusCode).toBe(404)
  })

  it('keeps /api as the JSON API, its 404s included', async () => {
    const missing = await withConsole.inject('/api/nope')
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toMatchObject({ errcode: 'ROUTE_NOT_FOUND' })
    const me = await withConsole.inject('/api/auth/me')
    expect(me.statusCode).toBe(401)
    expect(me.json()).toMatchObject({ errcode: 'AUTH_REQUIRED' })
    expect(me.headers['x-content-type-options']).toBe('nosniff')
    const docs = await withConsole.inject('/api/docs/json')
    expect(docs.statusCode).toBe(200)
    expect(docs.json().openapi).toMatch(/^3\./)
    expect((await withConsole.inject('/healthz')).json()).toMatchObject({ status: 'ok' })
  })

  it('redirects / to the API docs when the console is not built', async () => {
    const res = await without.inject('/')
    expect(res.statusCode).toBe(302)
    expect(res.headers.location).toBe('/api/docs')
    expect((await without.inject('/members')).statusCode).toBe(404)
  })
})
