import swagger from '@fastify/swagger'
import swaggerUi, { type FastifySwaggerUiConfigOptions } from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** What the top of the API docs says: what the API is, and how to sign in from this very page. */
export const API_DESCRIPTION = `卡管管理接口: the admin API of kaguan — merchants, shops, card templates, claim links, card components, members, deliveries (outbox), the audit log and admin accounts. The web console at \`/\` uses exactly this API.

## Signing in (登录)

Every operation except \`POST /api/auth/login\` needs a session.

1. The first account is made on the server: \`kaguan admin create --username admin --role admin\` (the password is read from stdin).
2. Here, open **auth → POST /api/auth/login**, *Try it out*, and send \`{"username": "admin", "password": "…"}\`. The answer sets the httpOnly \`kaguan_session\` cookie in this browser (nothing to paste) and returns the session's \`csrfToken\`.
3. Call the other operations. Unsafe ones (POST, PUT, PATCH, DELETE) must carry that token in the \`x-csrf-token\` header; **this page adds it for you** (it reads it from \`GET /api/auth/me\` before each such call).
4. \`POST /api/auth/logout\` ends the session; an idle session ends after 12 hours.

From curl or a script: keep the cookie (\`curl -c jar -b jar\`) and send \`-H "x-csrf-token: <csrfToken>"\` on unsafe calls.

## Roles

\`admin\` may do everything; \`operator\` works with templates and members; \`viewer\` only reads. \`GET /api/auth/me\` lists the permissions of the signed-in role; an operation refused for the role answers 403 \`AUTH_FORBIDDEN\` naming the permission.

## Lists and errors

Lists take \`page\` (from 1), \`pageSize\` (at most 200), \`sort\` and \`order\` (\`asc\`/\`desc\`) and answer \`{ items, total, page, pageSize }\`. Errors answer \`{ errcode, message, details?, requestId }\`; a bad field is named in \`details.fields\` (see docs/errcodes.md).`

/**
 * Swagger UI's request interceptor, run in the browser (swagger-ui serialises it with
 * `toString()`, so it must not refer to anything outside itself): unsafe requests get the
 * session's CSRF token, read from /api/auth/me each time so signing in again on the page (a new
 * session, a new token) needs no reload.
 */
export function csrfRequestInterceptor(request: {
  url: string
  method?: string
  headers: Record<string, string>
}): typeof request | Promise<typeof request> {
  const method = (request.method ?? 'GET').toUpperCase()
  if (
    !['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ||
    /\/api\/auth\/login$/.test(request.url)
  ) {
    return request
  }
  return fetch('/api/auth/me', { credentials: 'same-origin' })
    .then((res) => (res.ok ? (res.json() as Promise<{ csrfToken?: string }>) : {}))
    .then((me: { csrfToken?: string }) => {
      if (me.csrfToken) {
        request.headers['x-csrf-token'] = me.csrfToken
      }
      return request
    })
    .catch(() => request)
}

/** The OpenAPI description of the admin API and its Swagger page at /api/docs. */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'kaguan admin API', version: '0.1.0', description: API_DESCRIPTION },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'kaguan_session' } },
      },
      security: [{ session: [] }],
    },
  })
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: {
      // Swagger UI types its request as an open record; ours names the three fields it uses.
      requestInterceptor:
        csrfRequestInterceptor as unknown as FastifySwaggerUiConfigOptions['requestInterceptor'],
      // The session cookie goes with Try-it-out calls (same origin).
      withCredentials: true,
      persistAuthorization: true,
    },
  })
}
