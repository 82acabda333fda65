import type { LightMyRequestResponse } from 'fastify'
import { buildRoleApp, type RoleApp } from '../../src/http/app.js'
import { registerManagement } from '../../src/http/management/index.js'
import type { AppDeps } from '../../src/deps.js'
import { AdminRoles, createAdminUser, type AdminRole } from '../../src/modules/admin/index.js'

export interface Session {
  cookie: string
  csrf: string
}

/** The management role (no console) with one signed-in account of every role. */
export interface ManagementApp {
  app: RoleApp
  sessions: Record<AdminRole, Session>
  /** A call as `role` (session cookie and CSRF token), or signed out without a role. */
  call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    role?: AdminRole,
    payload?: object,
  ): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

export const TEST_PASSWORDS: Record<AdminRole, string> = {
  admin: 'admin password 123',
  operator: 'operator password 456',
  viewer: 'viewer password 789',
}

export async function startManagement(deps: AppDeps): Promise<ManagementApp> {
  const app = await buildRoleApp('management', deps, (scope) =>
    registerManagement(scope, deps, { consoleDir: null }),
  )
  const sessions = {} as Record<AdminRole, Session>
  for (const role of AdminRoles) {
    await createAdminUser(
      deps,
      { username: `${role}-user`, password: TEST_PASSWORDS[role], role },
      'cli',
    )
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: `${role}-user`, password: TEST_PASSWORDS[role] },
    })
    if (res.statusCode !== 200) {
      throw new Error(`sign-in of ${role} failed: ${res.body}`)
    }
    sessions[role] = {
      cookie: String(res.headers['set-cookie']).split(';')[0]!,
      csrf: (res.json() as { csrfToken: string }).csrfToken,
    }
  }
  return {
    app,
    sessions,
    call: (method, url, role, payload) =>
      app.inject({
        method,
        url,
        headers: role ? { cookie: sessions[role].cookie, 'x-csrf-token': sessions[role].csrf } : {},
        ...(payload ? { payload } : {}),
      }),
    close: () => app.close(),
  }
}
