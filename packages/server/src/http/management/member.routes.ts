import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ErrorBody } from '@kaguan/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { cardsDeps, type AppDeps } from '../../deps.js'
import {
  adjustPoints,
  cardDetail,
  deleteCardByAdmin,
  findMembers,
} from '../../modules/cards/index.js'
import { invalidFields } from '../../shared/errors.js'
import { actorOf } from './actor.js'
import { requirePermission } from './auth.js'

const Errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }
const tags = ['members']

export function registerMemberRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const db = deps.handle.db
  const cards = cardsDeps(deps)

  app.get(
    '/api/merchants/:merchantId/members',
    {
      preHandler: requirePermission('members.read'),
      schema: {
        tags,
        description:
          'Find members with their cards: by mobile (through its keyed hash), either card number, or Alipay user id.',
        params: Type.Object({ merchantId: Type.String() }),
        querystring: Type.Object({
          mobile: Type.Optional(Type.String({ pattern: '^1\\d{10}$' })),
          bizCardNo: Type.Optional(Type.String({ minLength: 1 })),
          alipayCardNo: Type.Optional(Type.String({ minLength: 1 })),
          alipayUserId: Type.Optional(Type.String({ pattern: '^2088\\d{12}$' })),
        }),
      },
    },
    async (req) => {
      const q = req.query
      if (!q.mobile && !q.bizCardNo && !q.alipayCardNo && !q.alipayUserId) {
        throw invalidFields('REQUEST_INVALID', [
          { field: 'querystring', message: 'give mobile, bizCardNo, alipayCardNo or alipayUserId' },
        ])
      }
      return findMembers(db, deps, req.params.merchantId, q)
    },
  )
  app.get(
    '/api/cards/:cardId',
    {
      preHandler: requirePermission('members.read'),
      schema: {
        tags,
        description: 'A card with its member, points history and audit trail.',
        params: Type.Object({ cardId: Type.String() }),
      },
    },
    async (req) => cardDetail(db, deps, req.params.cardId),
  )
  app.delete(
    '/api/cards/:cardId',
    {
      preHandler: requirePermission('members.write'),
      schema: {
        tags,
        description: 'Delete a card: alipay.marketing.card.delete, then cardChange DEL to the CRM.',
        params: Type.Object({ cardId: Type.String() }),
        response: { 204: Type.Null(), ...Errors },
      },
    },
    async (req, reply) => {
      await deleteCardByAdmin(cards, req.params.cardId, actorOf(req))
      return reply.code(204).send(null)
    },
  )
  app.post(
    '/api/cards/:cardId/points',
    {
      preHandler: requirePermission('members.write'),
      schema: {
        tags,
        description:
          'Adjust points (no-CRM mode; refused with 409 POINTS_OWNED_BY_CRM when a CRM owns points) with an idempotency key and a reason; audited, pushed to Alipay by the worker.',
        params: Type.Object({ cardId: Type.String() }),
        body: Type.Object(
          {
            delta: Type.Integer(),
            reason: Type.String({ minLength: 1, maxLength: 128 }),
            idempotencyKey: Type.String({ minLength: 8, maxLength: 64 }),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) =>
      adjustPoints(cards, req.params.cardId, {
        delta: req.body.delta,
        reason: req.body.reason,
        source: actorOf(req).actor,
        idempotencyKey: req.body.idempotencyKey,
        audit: actorOf(req),
      }),
  )
}
