import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ComponentPublicView, ErrorBody } from '@kaguan/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { componentPublicView } from '../../modules/templates/index.js'

/** The public `mini` role: what Alipay and the merchant's mini-program call. */
export function registerMini(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/api/components/:componentId',
    {
      schema: {
        description: "The card component a mini-program page shows: the template's look and its claim link.",
        params: Type.Object({ componentId: Type.String({ minLength: 1 }) }),
        response: { 200: ComponentPublicView, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      // Mini-program pages are served from Alipay's domains.
      void reply.header('access-control-allow-origin', '*')
      return componentPublicView(deps.handle.db, req.params.componentId)
    },
  )
}
