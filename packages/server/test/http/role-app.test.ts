import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '@sinclair/typebox'
import { buildRoleApp, redactQuery, type RoleApp } from '../../src/http/app.js'
import { AppError, ErrorKind } from '../../src/shared/errors.js'
import { createTestDb, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'
import { capturingLogger } from '../helpers/logs.js'

describe('role app', () => {
  let db: TestDb
  let app: RoleApp
  const logs = capturingLogger()

  beforeAll(async () => {
    db = await createTestDb('sqlite')
    app = await buildRoleApp('core', testDeps(db, { log: logs.log }), (scope) => {
      scope.post(
        '/echo',
        {
          schema: {
            body: Type.Object({ templateId: Type.String({ minLength: 1 }), point: Type.Integer() }),
          },
        },
        (req) => req.body,
      )
      scope.get('/conflict', () => {
        throw new AppError(ErrorKind.Conflict, 'CARD_ALREADY_OPEN', 'card already open', {
          cardId: 'c1',
        })
      })
      scope.get('/boom', () => {
        throw new Error('db password is hunter2')
      })
    })
  })
  afterAll(async () => {
    await app.close()
    await db.destroy()
  })

  it('answers liveness and readiness with the role name', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok', role: 'core' })
    const ready = await app.inject('/readyz')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ready', role: 'core', checks: { database: 'ok' } })
  })

  it('is not ready when the schema is behind', async () => {
    const bare = await createTestDb('sqlite', { migrate: false })
    const other = await buildRoleApp('mini', testDeps(bare))
    const res = await other.inject('/readyz')
    expect(res.statusCode).toBe(503)
    expect(res.json()).toMatchObject({
      status: 'not_ready',
      checks: { database: expect.stringContaining('pending migrations') },
    })
    await other.close()
    await bare.destroy()
  })

  it('keeps a caller request id and makes one otherwise', async () => {
    const given = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'till-42' } })
    expect(given.headers['x-request-id']).toBe('till-42')
    const made = await app.inject({
      url: '/healthz',
      headers: { 'x-request-id': 'bad id with spaces' },
    })
    expect(made.headers['x-request-id']).toMatch(/^req_/)
  })

  it('names the bad field on schema errors', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { point: 'many' } })
    expect(res.statusCode).toBe(400)
    const body = res.json()
    expect(body.errcode).toBe('REQUEST_INVALID')
    expect(body.message).toContain('body.templateId')
    expect(body.message).toContain('body.point')
  })

  it('maps AppError kinds to statuses with details, and hides unexpected errors', async () => {
    const conflict = await app.inject('/conflict')
    expect(conflict.statusCode).toBe(409)
    expect(conflict.json()).toMatchObject({
      errcode: 'CARD_ALREADY_OPEN',
      details: { cardId: 'c1' },
    })
    const boom = await app.inject('/boom')
    expect(boom.statusCode).toBe(500)
    expect(boom.json()).toMatchObject({ errcode: 'INTERNAL' })
    expect(boom.body).not.toContain('hunter2')
    expect(boom.body).not.toContain('at ')
  })

  it('tells a browser at the root what the role serves', async () => {
    expect((await app.inject('/')).json()).toEqual({
      service: 'kaguan',
      role: 'core',
      health: '/healthz',
      ready: '/readyz',
    })
  })

  it('answers unknown routes with a JSON 404', async () => {
    const res = await app.inject('/card/nothing')
    expect(res.statusCode).toBe(404)
    expect(res.json().errcode).toBe('ROUTE_NOT_FOUND')
  })

  it('logs requests without the secrets in their query', async () => {
    await app.inject('/healthz?auth_code=AC123&template_id=T1&mobile=13800138000')
    expect(logs.text()).not.toContain('AC123')
    expect(logs.text()).not.toContain('13800138000')
    expect(redactQuery('/aliCallback?auth_code=x&template_id=T1')).toBe(
      '/aliCallback?auth_code=***&template_id=T1',
    )
  })
})

describe('/metrics on a role app', () => {
  it('answers on the worker role, one registry per deps (two kaguans in one process do not mix)', async () => {
    const db = await createTestDb('sqlite')
    const first = testDeps(db)
    const second = testDeps(db)
    const worker = await buildRoleApp('worker', first)
    const core = await buildRoleApp('core', second)
    try {
      await worker.inject('/healthz')
      const res = await worker.inject('/metrics')
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
      expect(res.body).toMatch(
        /kaguan_http_request_duration_seconds_count\{role="worker",method="GET",route="\/healthz",status="200"\} 1/,
      )
      const other = await core.inject('/metrics')
      expect(other.body).not.toContain('role="worker"')
    } finally {
      await worker.close()
      await core.close()
      await db.destroy()
    }
  })
})
