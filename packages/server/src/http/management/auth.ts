import { timingSafeEqual } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyRateLimit from '@fastify/rate-limit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preValidationAsyncHookHandler,
} from 'fastify'
import {
  AdminUserBody,
  PageQuery,
  Paged,
  AdminUserParams,
  ChangePasswordBody,
  CreateAdminUserBody,
  ErrorBody,
  LoginBody,
  LoginResponse,
  MeResponse,
  ResetPasswordBody,
  UpdateAdminUserBody,
} from '@kaguan/contracts'
import type { AppDeps } from '../../deps.js'
import { AppError, ErrorKind } from '../../shared/errors.js'
import { pageInMemory, pageRequest } from '../../shared/paging.js'
import {
  AdminErrors,
  authenticate,
  canSomewhere,
  changeOwnPassword,
  createAdminUser,
  listAdminUsers,
  login,
  logout,
  permissionsOf,
  Permissions,
  resetAdminPassword,
  updateAdminUser,
  type AdminPrincipal,
  type AdminUser,
  type Permission,
} from '../../modules/admin/index.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in admin user, set by the auth hook from the `kaguan_session` cookie. */
    principal?: AdminPrincipal
    /** The CSRF token of the request's session. */
    csrfToken?: string
  }
}

/** The session cookie's name. */
export const SESSION_COOKIE = 'kaguan_session'
/** The header unsafe requests carry the session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token'

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const LOGIN_PATH = '/api/auth/login'
/** Sign-in attempts one IP may make per {@link LOGIN_RATE_WINDOW_MS}. */
export const LOGIN_RATE_MAX = 10
export const LOGIN_RATE_WINDOW_MS = 60_000

// Error answers each route can give, for the generated API docs.
const E401 = { 401: ErrorBody }
const E403 = { 403: ErrorBody }

/**
 * A route's `preValidation` hook that lets the request through only for a signed-in user whose
 * role grants `permission`: 401 AUTH_REQUIRED without a session, 403 AUTH_FORBIDDEN naming the
 * permission. Before validation, so an anonymous caller learns nothing about the body's schema.
 */
export function requirePermission(permission: Permission): preValidationAsyncHookHandler {
  return async (request: FastifyRequest) => {
    if (!request.principal) {
      throw AdminErrors.authRequired()
    }
    // For a merchant-scoped account the tenancy hook (tenancy.ts, run before this one) has
    // narrowed the principal to the merchant of the request: its role there decides. Lists of
    // merchants need the permission at some merchant of the account.
    if (!canSomewhere(request.principal, permission)) {
      throw AdminErrors.forbidden(permission)
    }
  }
}

function sameToken(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') {
    return false
  }
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  // Lengths of our tokens are public (always 43); only the content must not leak through timing.
  return a.length === b.length && timingSafeEqual(a, b)
}

function actorOf(request: FastifyRequest): string {
  return `admin:${request.principal!.userId}`
}

function userView(user: AdminUser) {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    scope: user.scope,
    merchants: user.merchants,
    disabled: user.disabled,
    failedLogins: user.failedLogins,
    lockedUntil: user.lockedUntil,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  }
}

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  // No Expires/Max-Age: the server slides the 12 h expiry on use, and a fixed cookie lifetime
  // would log out an active user; the browser drops the cookie when it closes.
  void reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    // trustProxy is on, so behind a TLS-terminating proxy this follows x-forwarded-proto.
    secure: request.protocol === 'https',
  })
}

/**
 * Sign-in for the management API: cookie parsing, the hook that puts the session's principal on
 * each request, the CSRF check of unsafe `/api/*` requests (login excepted), the `/api/auth/*`
 * routes and the admin-user management routes. Register it in the scope (or a parent of the
 * scope) that holds the other management routes, before them, so its hooks cover them.
 */
export async function registerAuth(
  app: FastifyInstance,
  deps: AppDeps,
  // Tests that sign in many times from one inject address raise the per-IP cap.
  options: { loginRateMax?: number } = {},
): Promise<void> {
  if (!app.hasDecorator('parseCookie')) {
    await app.register(fastifyCookie)
  }
  if (!app.hasRequestDecorator('principal')) {
    app.decorateRequest('principal', undefined)
  }
  if (!app.hasRequestDecorator('csrfToken')) {
    app.decorateRequest('csrfToken', undefined)
  }

  app.addHook('onRequest', async (request) => {
    const token = request.cookies[SESSION_COOKIE]
    if (token) {
      const session = await authenticate(deps, token)
      if (session) {
        const { csrfToken, expiresAt: _expiresAt, ...principal } = session
        request.principal = principal
        request.csrfToken = csrfToken
      }
    }
    // Decide by the matched route, not the raw URL: `/%61pi/…` reaches the same `/api/…` route.
    const path = request.routeOptions.url ?? ''
    if (!UNSAFE_METHODS.has(request.method) || !path.startsWith('/api/')) {
      return
    }
    if (request.method === 'POST' && path === LOGIN_PATH) {
      return
    }
    // Without a session the request carries no authority to abuse; the route answers 401 itself.
    if (request.csrfToken && !sameToken(request.csrfToken, request.headers[CSRF_HEADER])) {
      throw AdminErrors.csrfInvalid()
    }
  })

  // Only the login route is limited (global: false): a per-IP cap on password guessing that never
  // touches the owner's account, unlike the account lock-out.
  if (!app.hasDecorator('rateLimit')) {
    await app.register(fastifyRateLimit, { global: false })
  }

  const r = app.withTypeProvider<TypeBoxTypeProvider>()

  r.post(
    LOGIN_PATH,
    {
      config: {
        tenancy: 'self',
        rateLimit: {
          max: options.loginRateMax ?? LOGIN_RATE_MAX,
          timeWindow: LOGIN_RATE_WINDOW_MS,
          errorResponseBuilder: (_request, context) =>
            new AppError(
              ErrorKind.TooMany,
              'AUTH_RATE_LIMITED',
              `too many sign-in attempts from this address: at most ${context.max} a minute; try again in ${Math.ceil(context.ttl / 1000)} s`,
              { retryAfterSeconds: Math.ceil(context.ttl / 1000) },
            ),
        },
      },
      schema: {
        summary: 'Sign in',
        description:
          'Signs in with username and password; sets the httpOnly kaguan_session cookie and returns the CSRF token.',
        tags: ['auth'],
        body: LoginBody,
        response: { 200: LoginResponse, 400: ErrorBody, ...E401, ...E403, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const previous = request.cookies[SESSION_COOKIE]
      const result = await login(deps, {
        username: request.body.username,
        password: request.body.password,
        ip: request.ip,
      })
      // Signing in again replaces the session this browser had, rather than leaving it open.
      if (previous) {
        await logout(deps, previous)
      }
      setSessionCookie(request, reply, result.sessionToken)
      const { userId: id, username, role } = result.principal
      return {
        user: { id, username, role },
        csrfToken: result.csrfToken,
        expiresAt: result.expiresAt,
      }
    },
  )

  r.post(
    '/api/auth/logout',
    {
      config: { tenancy: 'self' },
      schema: {
        summary: 'Sign out',
        description:
          'Ends the current session and clears its cookie; answers 204 even without a session.',
        tags: ['auth'],
        response: { 204: Type.Null(), ...E403 },
      },
    },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE]
      if (token) {
        await logout(deps, token)
      }
      void reply.clearCookie(SESSION_COOKIE, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
      })
      return reply.code(204).send(null)
    },
  )

  r.get(
    '/api/auth/me',
    {
      config: { tenancy: 'self' },
      schema: {
        summary: 'The signed-in user and CSRF token',
        description:
          'The signed-in user, the CSRF token of the session and the permissions of the role.',
        tags: ['auth'],
        response: { 200: MeResponse, ...E401 },
      },
    },
    (request) => {
      const p = request.principal
      if (!p) {
        throw AdminErrors.authRequired()
      }
      // A merchant-scoped account's permissions: those of some merchant it sees (the console
      // uses the per-merchant list for the merchant it shows).
      const permissions =
        p.scope === 'platform'
          ? permissionsOf(p.role)
          : Permissions.filter((permission) => canSomewhere(p, permission))
      return {
        user: { id: p.userId, username: p.username, role: p.role },
        scope: p.scope,
        merchants: p.merchants.map((m) => ({ ...m, permissions: permissionsOf(m.role) })),
        csrfToken: request.csrfToken!,
        permissions,
      }
    },
  )

  r.post(
    '/api/auth/password',
    {
      config: { tenancy: 'self' },
      schema: {
        summary: 'Change my password',
        description:
          'The signed-in user changes their own password, giving the current one; their other sessions end, this one stays. Audited.',
        tags: ['auth'],
        body: ChangePasswordBody,
        response: { 204: Type.Null(), 400: ErrorBody, ...E401, ...E403 },
      },
    },
    async (request, reply) => {
      const p = request.principal
      if (!p) {
        throw AdminErrors.authRequired()
      }
      await changeOwnPassword(
        deps,
        {
          userId: p.userId,
          sessionId: p.sessionId,
          currentPassword: request.body.currentPassword,
          newPassword: request.body.newPassword,
        },
        { requestId: request.id },
      )
      return reply.code(204).send(null)
    },
  )

  const manage = requirePermission('users.manage')

  r.get(
    '/api/admin-users',
    {
      preValidation: manage,
      schema: {
        summary: 'List admin accounts',
        description: 'Every admin account (no passwords), paged. Needs users.manage.',
        tags: ['admin-users'],
        querystring: Type.Object(PageQuery(['username', 'role', 'createdAt'])),
        response: { 200: Paged(AdminUserBody), ...E401, ...E403 },
      },
    },
    async (request) =>
      pageInMemory(
        (await listAdminUsers(deps)).map(userView),
        pageRequest(request.query, { sort: 'username', order: 'asc' }),
        {
          username: (u) => u.username,
          role: (u) => u.role,
          createdAt: (u) => u.createdAt,
        },
      ),
  )

  r.post(
    '/api/admin-users',
    {
      preValidation: manage,
      schema: {
        summary: 'Create an admin account',
        description:
          'Creates an admin account: a platform (ISV-wide) admin, or with `merchants` one that sees only those merchants, with a role at each. Platform admins only; needs users.manage; audited.',
        tags: ['admin-users'],
        body: CreateAdminUserBody,
        response: { 201: AdminUserBody, 400: ErrorBody, ...E401, ...E403, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const user = await createAdminUser(deps, request.body, actorOf(request), {
        requestId: request.id,
      })
      return reply.code(201).send(userView(user))
    },
  )

  r.patch(
    '/api/admin-users/:id',
    {
      preValidation: manage,
      schema: {
        summary: 'Change or disable an admin account',
        description:
          'Changes the role of an admin account or disables/enables it (disabling ends its sessions). Needs users.manage; audited.',
        tags: ['admin-users'],
        params: AdminUserParams,
        body: UpdateAdminUserBody,
        response: {
          200: AdminUserBody,
          400: ErrorBody,
          ...E401,
          ...E403,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (request) =>
      userView(
        await updateAdminUser(deps, request.params.id, request.body, actorOf(request), {
          requestId: request.id,
        }),
      ),
  )

  r.post(
    '/api/admin-users/:id/reset-password',
    {
      preValidation: manage,
      schema: {
        summary: 'Reset the password of an admin account',
        description:
          "Sets a new password, clears the lock-out and ends the account's sessions. Needs users.manage; audited.",
        tags: ['admin-users'],
        params: AdminUserParams,
        body: ResetPasswordBody,
        response: { 200: AdminUserBody, 400: ErrorBody, ...E401, ...E403, 404: ErrorBody },
      },
    },
    async (request) => {
      const { user } = await resetAdminPassword(
        deps,
        { userId: request.params.id, password: request.body.password },
        actorOf(request),
        { requestId: request.id },
      )
      return userView(user)
    },
  )
}
