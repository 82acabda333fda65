import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import { buildRoleApp, type RoleApp } from '../../src/http/app.js'
import { registerManagement } from '../../src/http/management/index.js'
import type { AppDeps } from '../../src/deps.js'
import { createAdminUser } from '../../src/modules/admin/index.js'
import { blockClaims, type CardsTable } from '../../src/modules/cards/index.js'
import { activateMember, reserveMember } from '../../src/modules/members/index.js'
import { createMerchant, DEFAULT_MERCHANT_ID } from '../../src/modules/merchants/index.js'
import { createShop } from '../../src/modules/shops/index.js'
import { createClaimLink, createComponent } from '../../src/modules/templates/index.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import { fixedClock, testDeps } from '../helpers/deps.js'
import { publishedTemplate, setUpFakeMerchant } from '../helpers/fake-merchant.js'
import { fakeAlipay } from '../helpers/fakes.js'

/**
 * Issue 14, tenancy: an account of merchant A reads and changes nothing of merchant B through any
 * endpoint. The routes come from the OpenAPI document, so a new route is attacked by default; every
 * path parameter gets B's id of its kind; the answer must be 403 or 404, and B's rows must be the
 * same afterwards.
 */

const PASSWORD = 'tenancy password 123'
const A = DEFAULT_MERCHANT_ID
const actor = { actor: 'cli' }

interface Session {
  cookie: string
  csrf: string
}
interface Answer {
  status: number
  body: unknown
}
interface OpenApiDoc {
  paths: Record<string, Record<string, { requestBody?: unknown; parameters?: Parameter[] }>>
}
interface Parameter {
  in: string
  name: string
}

/** Routes that act on the signed-in account only; left out (logging the attacker out proves nothing). */
const SELF_ROUTES = new Set([
  'POST /api/auth/login',
  'POST /api/auth/logout',
  'GET /api/auth/me',
  'POST /api/auth/password',
])
/** Routes only a platform admin may call: a merchant-scoped account gets TENANCY_PLATFORM_ONLY. */
const PLATFORM_ROUTES = new Set([
  'POST /api/merchants',
  'POST /api/outbox/retry',
  'GET /api/admin-users',
  'POST /api/admin-users',
  'PATCH /api/admin-users/{id}',
  'POST /api/admin-users/{id}/reset-password',
  'GET /metrics',
])

/** A body a client could plausibly send, for the routes that take one (B's ids where they name things). */
function plausibleBody(key: string, ids: Record<string, string>): object | undefined {
  const bodies: Record<string, object> = {
    'POST /api/merchants': { name: '坏人的商户' },
    'PUT /api/merchants/{merchantId}/alipay': {
      appId: '2021000000000009',
      gateway: 'http://127.0.0.1:9/gateway.do',
    },
    'PUT /api/merchants/{merchantId}/public-url': { publicBaseUrl: 'http://127.0.0.1:7' },
    'PUT /api/merchants/{merchantId}/crm': { mode: 'none' },
    'POST /api/merchants/{merchantId}/shops': {
      name: '新店',
      address: '杭州',
      latitude: 30.2,
      longitude: 120.1,
    },
    'PUT /api/merchants/{merchantId}/shops/{shopId}': {
      name: '改名',
      address: '杭州',
      latitude: 30.2,
      longitude: 120.1,
    },
    'POST /api/merchants/{merchantId}/images': {
      name: 'x',
      type: 'png',
      contentBase64: 'iVBORw0KGgo=',
    },
    'POST /api/merchants/{merchantId}/reconcile': {},
    'POST /api/merchants/{merchantId}/templates': { spec: {} },
    'POST /api/merchants/{merchantId}/templates/preview': { spec: {} },
    'PUT /api/templates/{templateId}': { spec: {} },
    'POST /api/templates/{templateId}/claim-links': { outString: 'evil' },
    'POST /api/merchants/{merchantId}/components': { name: 'c', templateId: ids.templateId! },
    'POST /api/merchants/{merchantId}/members/{memberId}/erase': { reason: '冒充乙的会员请求' },
    'POST /api/merchants/{merchantId}/claim-blocks': {
      alipayUserId: '2088000000000042',
      reason: '冒充乙拦截',
    },
    'POST /api/cards/{cardId}/points': {
      delta: 1000,
      reason: 'gift',
      idempotencyKey: 'tenancy-attack-1',
    },
    'POST /api/merchants/{merchantId}/stamp-activities': { type: 'POINT_SEND', spec: {} },
    'PUT /api/merchants/{merchantId}/stamp-activities/{activityId}': {
      type: 'POINT_SEND',
      spec: {},
    },
    'POST /api/merchants/{merchantId}/stamp-activities/{activityId}/adjustments': {
      memberId: ids.memberId!,
      delta: 5,
      reason: 'gift',
      idempotencyKey: 'tenancy-attack-2',
    },
    'POST /api/outbox/retry': { all: true },
    'POST /api/admin-users': { username: 'intruder', password: PASSWORD, role: 'admin' },
    'PATCH /api/admin-users/{id}': { disabled: true },
    'POST /api/admin-users/{id}/reset-password': { password: 'taken over 12345' },
  }
  return bodies[key]
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: tenancy, merchant A's accounts against merchant B`, () => {
    let db: TestDb
    let deps: AppDeps
    let app: RoleApp
    let base: string
    let B: string
    const ids: Record<string, string> = {}
    const sessions: Record<string, Session> = {}
    const clock = fixedClock('2026-12-07T02:00:00.000Z')

    async function call(who: string, method: string, path: string, body?: object): Promise<Answer> {
      const s = sessions[who]!
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          cookie: s.cookie,
          'x-csrf-token': s.csrf,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      })
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        // an image or a text answer
      }
      return { status: res.status, body: parsed }
    }

    async function signIn(username: string): Promise<void> {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD }),
      })
      expect(res.status, await res.clone().text()).toBe(200)
      sessions[username] = {
        cookie: String(res.headers.get('set-cookie')).split(';')[0]!,
        csrf: ((await res.json()) as { csrfToken: string }).csrfToken,
      }
    }

    /** Every row of every table but the sessions (attackers' sessions slide), in a stable order. */
    async function snapshot(): Promise<string> {
      const tables = (await db.db.introspection.getTables())
        .map((t) => t.name)
        .filter((n) => n !== 'admin_sessions' && !n.startsWith('kysely_'))
        .sort()
      const out: Record<string, unknown[]> = {}
      for (const table of tables) {
        const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
          db.db,
        )
        out[table] = rows.rows.map((r) => JSON.stringify(r)).sort()
      }
      return JSON.stringify(out)
    }

    /** What B's own platform admin reads of B through the API. */
    async function readsOfB(): Promise<unknown[]> {
      const paths = [
        `/api/merchants/${B}`,
        `/api/merchants/${B}/shops`,
        `/api/merchants/${B}/templates`,
        `/api/templates/${ids.templateId}`,
        `/api/templates/${ids.templateId}/claim-links`,
        `/api/merchants/${B}/members`,
        `/api/cards/${ids.cardId}`,
        `/api/merchants/${B}/components`,
        `/api/merchants/${B}/stamp-activities`,
        `/api/merchants/${B}/stamp-accounts`,
        `/api/admin-users`,
      ]
      const out: unknown[] = []
      for (const p of paths) {
        const answer = await call('root', 'GET', p)
        expect(answer.status, p).toBe(200)
        out.push(answer.body)
      }
      return out
    }

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, { clock, alipay: fakeAlipay() })
      await setUpFakeMerchant(deps)
      B = (await createMerchant(deps, { name: '商户乙' }, actor)).id
      await setUpFakeMerchant(deps, { merchantId: B, appId: '2021000000000002' })

      // B's things, one of every kind a path can name.
      const template = await publishedTemplate(deps, B)
      ids.merchantId = B
      ids.templateId = template.id
      ids.linkId = (await createClaimLink(deps, template.id, {}, actor)).id
      ids.shopId = (
        await createShop(
          deps,
          B,
          { name: '乙店', address: '上海', latitude: 31.2, longitude: 121.4 },
          actor,
        )
      ).id
      await createComponent(deps, B, { name: '乙组件', templateId: template.id }, actor)
      const member = await reserveMember(
        deps,
        B,
        '2088000000000042',
        { mobile: '13800000042', name: '李四' },
        { prefix: 'B', style: 'sequential' },
      )
      await activateMember(deps, member.id)
      ids.memberId = member.id
      ids.alipayUserId = '2088000000000099'
      await blockClaims(deps, B, { alipayUserId: ids.alipayUserId, reason: '乙的拦截' }, actor)
      const now = clock.nowIso()
      const card: CardsTable = {
        id: 'crd_b_1',
        merchant_id: B,
        member_id: member.id,
        template_id: template.id,
        alipay_template_id: template.alipayTemplateId ?? 'ALI_TPL_B',
        alipay_user_id: '2088000000000042',
        alipay_open_id: null,
        alipay_union_id: null,
        biz_card_no: member.bizCardNo,
        alipay_card_no: 'ALI_B_00000001',
        status: 'active',
        out_string: null,
        point: 50,
        level: null,
        balance: null,
        state_version: 1,
        pushed_version: 1,
        open_date: '2026-12-01 00:00:00',
        valid_date: '2036-12-01 00:00:00',
        deleted_at: null,
        delete_reason: null,
        created_at: now,
        updated_at: now,
      }
      await db.db.insertInto('cards').values(card).execute()
      ids.cardId = card.id
      ids.activityId = 'sta_b_1'
      await db.db
        .insertInto('stamp_activities')
        .values({
          id: ids.activityId,
          merchant_id: B,
          type: 'POINT_SEND',
          status: 'draft',
          name: '乙集点',
          spec_json: '{}',
          stamp_activity_id: null,
          hold_ttl_seconds: 1800,
          alipay_camp_id: null,
          alipay_item_id: null,
          coupon_url: null,
          created_at: now,
          updated_at: now,
          published_at: null,
          ended_at: null,
        })
        .execute()
      ids.accountId = 'sac_b_1'
      await db.db
        .insertInto('stamp_accounts')
        .values({
          id: ids.accountId,
          merchant_id: B,
          member_id: member.id,
          activity_id: ids.activityId,
          available: 3,
          frozen: 0,
          earned: 3,
          last_seq: 0,
          created_at: now,
          updated_at: now,
        })
        .execute()
      ids.jobId = 'rcj_b_unknown'
      ids.format = 'svg'

      // The accounts: a platform admin, and merchant A's operator and admin.
      const root = await createAdminUser(
        deps,
        { username: 'root', password: PASSWORD, role: 'admin' },
        'cli',
      )
      ids.id = root.id
      await createAdminUser(
        deps,
        {
          username: 'op-a',
          password: PASSWORD,
          role: 'operator',
          merchants: [{ merchantId: A, role: 'operator' }],
        },
        'cli',
      )
      await createAdminUser(
        deps,
        {
          username: 'admin-a',
          password: PASSWORD,
          role: 'admin',
          merchants: [{ merchantId: A, role: 'admin' }],
        },
        'cli',
      )
      await createAdminUser(
        deps,
        {
          username: 'mixed',
          password: PASSWORD,
          role: 'admin',
          merchants: [
            { merchantId: A, role: 'admin' },
            { merchantId: B, role: 'viewer' },
          ],
        },
        'cli',
      )

      app = await buildRoleApp('management', deps, (scope) =>
        registerManagement(scope, deps, { consoleDir: null }),
      )
      await app.listen({ host: '127.0.0.1', port: 0 })
      base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
      for (const username of ['root', 'op-a', 'admin-a', 'mixed']) {
        await signIn(username)
      }
    }, 60_000)

    afterAll(async () => {
      await app?.close()
      await db?.destroy()
    })

    it(
      'refuses every route of the OpenAPI document for B, and B is unchanged',
      { timeout: 120_000 },
      async () => {
        const doc = (await call('root', 'GET', '/api/docs/json')).body as OpenApiDoc
        const routes: { key: string; method: string; path: string; query: string[] }[] = []
        for (const [path, methods] of Object.entries(doc.paths)) {
          for (const [method, op] of Object.entries(methods)) {
            const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
            routes.push({
              key: `${method.toUpperCase()} ${path}`,
              method: method.toUpperCase(),
              path,
              query,
            })
          }
        }
        // The metrics are hidden from the document but are an admin route all the same.
        routes.push({ key: 'GET /metrics', method: 'GET', path: '/metrics', query: [] })
        expect(routes.length).toBeGreaterThan(45)

        const dbBefore = await snapshot()
        const readsBefore = await readsOfB()
        const attacked: string[] = []
        for (const attacker of ['op-a', 'admin-a']) {
          for (const route of routes) {
            if (SELF_ROUTES.has(route.key)) {
              continue
            }
            const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
              const id = ids[name]
              if (!id) {
                throw new Error(`no id of B for path parameter {${name}} of ${route.key}: add one`)
              }
              return encodeURIComponent(id)
            })
            const url = route.query.includes('merchantId') ? `${path}?merchantId=${B}` : path
            const answer = await call(attacker, route.method, url, plausibleBody(route.key, ids))
            const errcode = (answer.body as { errcode?: string }).errcode
            if (route.key === 'GET /api/merchants') {
              // The merchant list answers, without B.
              expect(answer.status).toBe(200)
              const items = (answer.body as { items: { id: string }[] }).items.map((m) => m.id)
              expect(items).toEqual([A])
            } else if (PLATFORM_ROUTES.has(route.key)) {
              expect([answer.status, errcode], `${attacker} ${route.key}`).toEqual([
                403,
                'TENANCY_PLATFORM_ONLY',
              ])
            } else {
              expect(
                [403, 404],
                `${attacker} ${route.key}: ${JSON.stringify(answer.body)}`,
              ).toContain(answer.status)
              expect(errcode, `${attacker} ${route.key}`).toMatch(/^TENANCY_/)
            }
            attacked.push(`${attacker} ${route.key}`)
          }
        }
        // Everything but the four sign-in routes, by both accounts.
        expect(attacked.length).toBe(2 * (routes.length - SELF_ROUTES.size))
        expect(await snapshot()).toBe(dbBefore)
        expect(await readsOfB()).toEqual(readsBefore)
      },
    )

    it("lets A's operator work in A, with A's things only", async () => {
      const templates = await call('op-a', 'GET', `/api/merchants/${A}/templates`)
      expect(templates.status).toBe(200)
      const dashboard = await call('op-a', 'GET', '/api/dashboard')
      expect(dashboard.status).toBe(200)
      expect((dashboard.body as { merchantId: string }).merchantId).toBe(A)
      // The operator's role still applies inside its merchant: settings are not its business.
      const crm = await call('op-a', 'PUT', `/api/merchants/${A}/crm`, { mode: 'none' })
      expect([crm.status, (crm.body as { errcode: string }).errcode]).toEqual([
        403,
        'AUTH_FORBIDDEN',
      ])
      const me = (await call('op-a', 'GET', '/api/auth/me')).body as {
        scope: string
        merchants: { merchantId: string; role: string }[]
      }
      expect(me.scope).toBe('merchant')
      expect(me.merchants).toEqual([expect.objectContaining({ merchantId: A, role: 'operator' })])
    })

    it("lets A's merchant admin keep A's keys, message channel, blocks and members' data", async () => {
      expect((await call('admin-a', 'GET', `/api/merchants/${A}/keys`)).status).toBe(200)
      const channel = await call('admin-a', 'PUT', `/api/merchants/${A}/message-channel`, {
        channel: 'http',
      })
      expect(channel.status).toBe(200)
      expect((await call('admin-a', 'GET', `/api/merchants/${A}/claim-blocks`)).status).toBe(200)
      // Onboarding merchants is the ISV's work.
      const onboard = await call('admin-a', 'GET', '/api/app-auths')
      expect([onboard.status, (onboard.body as { errcode: string }).errcode]).toEqual([
        403,
        'TENANCY_PLATFORM_ONLY',
      ])
    })

    it('applies the role of each merchant to an account of several', async () => {
      const list = (await call('mixed', 'GET', '/api/merchants')).body as {
        items: { id: string }[]
      }
      expect(list.items.map((m) => m.id).sort()).toEqual([A, B].sort())
      expect(
        (
          await call('mixed', 'PUT', `/api/merchants/${A}/public-url`, {
            publicBaseUrl: 'http://127.0.0.1:9',
          })
        ).status,
      ).toBe(200)
      const atB = await call('mixed', 'PUT', `/api/merchants/${B}/public-url`, {
        publicBaseUrl: 'http://127.0.0.1:8',
      })
      expect([atB.status, (atB.body as { errcode: string }).errcode]).toEqual([
        403,
        'AUTH_FORBIDDEN',
      ])
      expect((await call('mixed', 'GET', `/api/templates/${ids.templateId}`)).status).toBe(200)
      // Several merchants: the dashboard must be told which.
      const dashboard = await call('mixed', 'GET', '/api/dashboard')
      expect([dashboard.status, (dashboard.body as { errcode: string }).errcode]).toEqual([
        400,
        'REQUEST_INVALID',
      ])
    })

    it('lets a platform admin see both merchants and make a merchant-scoped account', async () => {
      const list = (await call('root', 'GET', '/api/merchants')).body as { items: { id: string }[] }
      expect(list.items.map((m) => m.id).sort()).toEqual([A, B].sort())
      const created = await call('root', 'POST', '/api/admin-users', {
        username: 'viewer-b',
        password: PASSWORD,
        role: 'viewer',
        merchants: [{ merchantId: B, role: 'viewer' }],
      })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({
        scope: 'merchant',
        merchants: [{ merchantId: B, role: 'viewer' }],
      })
      const unknown = await call('root', 'POST', '/api/admin-users', {
        username: 'nowhere',
        password: PASSWORD,
        role: 'viewer',
        merchants: [{ merchantId: 'mch_nope', role: 'viewer' }],
      })
      expect(unknown.status).toBe(400)
      expect(JSON.stringify(unknown.body)).toContain('merchants')
    })
  })
}
