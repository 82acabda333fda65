import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { registerAuth } from './auth.js'
import { registerMemberRoutes } from './member.routes.js'
import { registerMerchantRoutes } from './merchant.routes.js'
import { registerStampRoutes } from './stamp.routes.js'
import { registerTemplateRoutes } from './template.routes.js'

/**
 * The management role: the admin JSON API (login required) with its OpenAPI description at
 * /api/docs. Never exposed to the internet.
 */
export async function registerManagement(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'kaguan admin API',
        version: '0.1.0',
        description:
          '卡管管理接口: merchants, shops, card templates, claim links, card components, admin users.',
      },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'kaguan_session' } },
      },
      security: [{ session: [] }],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/api/docs' })
  await registerAuth(app, deps)
  registerMerchantRoutes(app, deps)
  registerTemplateRoutes(app, deps)
  registerMemberRoutes(app, deps)
  registerStampRoutes(app, deps)
}
