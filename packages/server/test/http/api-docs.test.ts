import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { csrfRequestInterceptor } from '../../src/http/management/docs.js'
import { createTestDb, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'
import { startManagement, type ManagementApp } from '../helpers/management.js'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

describe('the API docs page', () => {
  let db: TestDb
  let m: ManagementApp
  let base: string
  const realFetch = globalThis.fetch

  beforeAll(async () => {
    db = await createTestDb('sqlite')
    m = await startManagement(testDeps(db))
    base = await m.app.listen({ host: '127.0.0.1', port: 0 })
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })
  afterAll(async () => {
    await m.close()
    await db.destroy()
  })

  it('has a summary and a tag on every operation', async () => {
    const doc = (await m.call('GET', '/api/docs/json')).json() as {
      paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>
    }
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      METHODS.filter((method) => ops[method]).map((method) => ({ path, method, op: ops[method]! })),
    )
    expect(operations.length).toBeGreaterThan(30)
    const missing = operations
      .filter(({ op, path }) => !op.summary || (path.startsWith('/api/') && !op.tags?.length))
      .map(({ method, path }) => `${method} ${path}`)
    expect(missing).toEqual([])
  })

  it('answers every read of the API with 401 to a caller who is not signed in', async () => {
    const doc = (await m.call('GET', '/api/docs/json')).json() as {
      paths: Record<string, Record<string, unknown>>
    }
    const reads = Object.entries(doc.paths)
      .filter(([path, ops]) => path.startsWith('/api/') && ops.get)
      .map(([path]) => path.replace(/\{(\w+)\}/g, (_, name: string) => `${name}_1`))
      .map((path) => path.replace('qr.format_1', 'qr.svg'))
    expect(reads).toEqual(
      expect.arrayContaining([
        '/api/dashboard',
        '/api/audit',
        '/api/merchants/merchantId_1/members',
      ]),
    )
    for (const path of reads) {
      const res = await m.call('GET', path)
      expect(`${path} ${res.statusCode}`).toBe(`${path} 401`)
    }
  })

  it('explains the sign-in and the CSRF header at the top', async () => {
    const doc = (await m.call('GET', '/api/docs/json')).json() as {
      info: { description: string }
    }
    expect(doc.info.description).toContain('POST /api/auth/login')
    expect(doc.info.description).toContain('x-csrf-token')
    expect(doc.info.description).toContain('kaguan admin create')
  })

  it('ships the CSRF interceptor to the browser', async () => {
    const res = await m.call('GET', '/api/docs/static/swagger-initializer.js')
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('requestInterceptor')
    expect(res.body).toContain('/api/auth/me')
    expect(res.body).toContain('x-csrf-token')
  })

  it('lets a Try-it-out write: the interceptor adds the token the server then accepts', async () => {
    const { cookie, csrf } = m.sessions.admin
    // The browser of the page: same origin, the session cookie sent with every call.
    vi.stubGlobal('fetch', (url: string, init: RequestInit = {}) =>
      realFetch(new URL(url, base), { ...init, headers: { ...init.headers, cookie } }),
    )
    const request = await csrfRequestInterceptor({
      url: `${base}/api/merchants`,
      method: 'post',
      headers: { 'content-type': 'application/json' },
    })
    expect(request.headers['x-csrf-token']).toBe(csrf)

    const sent = await realFetch(request.url, {
      method: 'POST',
      headers: { ...request.headers, cookie },
      body: JSON.stringify({ name: '文档页商户' }),
    })
    expect(sent.status, await sent.clone().text()).toBe(201)
    // Without the interceptor's header the same call is refused.
    const bare = await realFetch(`${base}/api/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ name: '文档页商户二' }),
    })
    expect(bare.status).toBe(403)
    expect(((await bare.json()) as { errcode: string }).errcode).toBe('AUTH_CSRF_INVALID')
  })

  it('leaves reads and the sign-in alone, and a signed-out page without a token', async () => {
    const calls: string[] = []
    vi.stubGlobal('fetch', (url: string) => {
      calls.push(url)
      return realFetch(new URL(url, base))
    })
    const get = await csrfRequestInterceptor({ url: `${base}/api/merchants`, headers: {} })
    expect(get.headers).toEqual({})
    const login = await csrfRequestInterceptor({
      url: `${base}/api/auth/login`,
      method: 'POST',
      headers: {},
    })
    expect(login.headers).toEqual({})
    expect(calls).toEqual([])
    const signedOut = await csrfRequestInterceptor({
      url: `${base}/api/merchants`,
      method: 'POST',
      headers: {},
    })
    expect(signedOut.headers).toEqual({})
    expect(calls).toEqual(['/api/auth/me'])
  })
})
