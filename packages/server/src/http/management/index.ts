import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { metricsHandler } from '../app.js'
import { registerAuth, requirePermission } from './auth.js'
import { registerDashboardRoutes } from './dashboard.routes.js'
import { registerApiDocs } from './docs.js'
import { addSecurityHeaders, findConsoleDist, registerConsole } from './console.js'
import { registerMemberRoutes } from './member.routes.js'
import { registerMerchantRoutes } from './merchant.routes.js'
import { registerAppAuthRoutes } from './app-auth.routes.js'
import { registerStampRoutes } from './stamp.routes.js'
import { registerTemplateRoutes } from './template.routes.js'
import { registerTenancy } from './tenancy.js'

export interface ManagementOptions {
  /** The built console to serve at `/`; found by {@link findConsoleDist} when absent, none when null. */
  consoleDir?: string | null
}

/**
 * The management role: the console at `/` (when built), the admin JSON API under `/api` (login
 * required) with its OpenAPI description at /api/docs. Never exposed to the internet.
 */
export async function registerManagement(
  app: FastifyInstance,
  deps: AppDeps,
  options: ManagementOptions = {},
): Promise<void> {
  addSecurityHeaders(app)
  await registerApiDocs(app)
  // Tenancy before every route, so that its hook covers them all (tenancy.ts).
  registerTenancy(app, deps)
  await registerAuth(app, deps)
  registerMerchantRoutes(app, deps)
  registerAppAuthRoutes(app, deps)
  registerTemplateRoutes(app, deps)
  registerMemberRoutes(app, deps)
  registerDashboardRoutes(app, deps)
  registerStampRoutes(app, deps)
  // The process's metrics, behind the login: the management role is never exposed, but an
  // anonymous caller on the office network should not read the figures either.
  app.get(
    '/metrics',
    { preValidation: requirePermission('settings.read'), schema: { hide: true } },
    metricsHandler(deps),
  )

  const consoleDir = options.consoleDir === undefined ? findConsoleDist() : options.consoleDir
  if (consoleDir) {
    await registerConsole(app, consoleDir)
  } else {
    // No console built (a checkout before `npm run build`): the API docs are the next best page.
    app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect('/api/docs'))
  }
}
