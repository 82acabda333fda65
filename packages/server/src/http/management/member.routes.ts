import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  ClaimBlockBody,
  ClaimBlockView,
  ErrorBody,
  MemberEraseBody,
  MemberEraseResult,
  MemberExportView,
  MemberWithCardsView,
  PageQuery,
  Paged,
} from '@kaguan/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import {
  adjustPoints,
  blockClaims,
  cardDetail,
  deleteCardByAdmin,
  eraseMember,
  exportMember,
  listClaimBlocks,
  listMembers,
  unblockClaims,
} from '../../modules/cards/index.js'
import { getMerchant } from '../../modules/merchants/index.js'
import { pageRequest } from '../../shared/paging.js'
import { actorOf } from './actor.js'
import { requirePermission } from './auth.js'

const Errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }
const tags = ['members']

export function registerMemberRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const cards = deps

  app.get(
    '/api/merchants/:merchantId/members',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.read'),
      schema: {
        tags,
        summary: 'List or search members',
        description:
          'Members with their cards, paged, newest first: all of them without a search term; with `q`, those whose mobile (whole number, matched through its keyed hash), card number (either) or Alipay user id (2088…) it is. The explicit fields narrow the same way.',
        params: Type.Object({ merchantId: Type.String() }),
        querystring: Type.Object({
          q: Type.Optional(
            Type.String({ maxLength: 64, description: 'Mobile, card number or Alipay user id' }),
          ),
          mobile: Type.Optional(Type.String({ pattern: '^1\\d{10}$' })),
          bizCardNo: Type.Optional(Type.String({ minLength: 1 })),
          alipayCardNo: Type.Optional(Type.String({ minLength: 1 })),
          alipayUserId: Type.Optional(Type.String({ pattern: '^2088\\d{12}$' })),
          ...PageQuery(['createdAt', 'bizCardNo']),
        }),
        response: { 200: Paged(MemberWithCardsView), ...Errors },
      },
    },
    async (req) => {
      const { page, pageSize, sort, order, ...query } = req.query
      return listMembers(
        deps,
        (await getMerchant(deps, req.params.merchantId)).id,
        query,
        pageRequest({ page, pageSize, sort, order }, { sort: 'createdAt', order: 'desc' }),
      )
    },
  )
  app.get(
    '/api/cards/:cardId',
    {
      config: { tenancy: 'card' },
      preValidation: requirePermission('members.read'),
      schema: {
        summary: 'Get a card with its history',
        tags,
        description:
          'A card with its member, points history, audit trail and the claim history of its user (failed claims with their errcode and reason).',
        params: Type.Object({ cardId: Type.String() }),
      },
    },
    async (req) => cardDetail(deps, req.params.cardId),
  )
  app.delete(
    '/api/cards/:cardId',
    {
      config: { tenancy: 'card' },
      preValidation: requirePermission('members.write'),
      schema: {
        summary: 'Delete a card',
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
      config: { tenancy: 'card' },
      preValidation: requirePermission('members.write'),
      schema: {
        summary: 'Adjust points',
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

  registerPrivacyRoutes(app, deps)
}

/** A member's personal data on request (PIPL), and users blocked from claiming. */
function registerPrivacyRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const memberParams = Type.Object({ merchantId: Type.String(), memberId: Type.String() })
  const merchantOf = async (id: string) => (await getMerchant(deps, id)).id

  app.get(
    '/api/merchants/:merchantId/members/:memberId/export',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.write'),
      schema: {
        tags,
        summary: "Export a member's data",
        description:
          'Everything kaguan stores about the member as JSON, personal data in clear (a request to see and copy one’s data, PIPL art. 45): profile, cards, points ledger, claims. Audited as member.export.',
        params: memberParams,
        response: { 200: MemberExportView, ...Errors },
      },
    },
    async (req, reply) => {
      const merchantId = await merchantOf(req.params.merchantId)
      const data = await exportMember(deps, merchantId, req.params.memberId, actorOf(req))
      return reply
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="member-${req.params.memberId}.json"`)
        .send(data)
    },
  )
  app.post(
    '/api/merchants/:merchantId/members/:memberId/erase',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.write'),
      schema: {
        tags,
        summary: "Erase a member's personal data",
        description:
          'On the member’s request (PIPL art. 47): their active cards are deleted (Alipay, and the CRM told), their data key is destroyed (crypto-shredding: every copy of the sealed fields, backups included, becomes unreadable) and the fields cleared. Cards and the points ledger stay as records without personal data. Audited as member.erase with the reason; erasing again changes nothing more.',
        params: memberParams,
        body: MemberEraseBody,
        response: { 200: MemberEraseResult, ...Errors },
      },
    },
    async (req) =>
      eraseMember(
        deps,
        await merchantOf(req.params.merchantId),
        req.params.memberId,
        req.body.reason,
        actorOf(req),
      ),
  )

  const blockTags = ['claim limits']
  app.get(
    '/api/merchants/:merchantId/claim-blocks',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.read'),
      schema: {
        tags: blockTags,
        summary: 'Users blocked from claiming',
        description:
          'Alipay users an operator blocked from claiming this merchant’s cards, newest first.',
        params: Type.Object({ merchantId: Type.String() }),
        response: { 200: Type.Array(ClaimBlockView), ...Errors },
      },
    },
    async (req) => listClaimBlocks(deps, await merchantOf(req.params.merchantId)),
  )
  app.post(
    '/api/merchants/:merchantId/claim-blocks',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.write'),
      schema: {
        tags: blockTags,
        summary: 'Block a user from claiming',
        description:
          'The user’s next claims of this merchant’s cards are refused with CLAIM_BLOCKED (cards they hold stay). Audited as claim_block.add; blocking again keeps the first reason.',
        params: Type.Object({ merchantId: Type.String() }),
        body: ClaimBlockBody,
        response: { 200: ClaimBlockView, ...Errors },
      },
    },
    async (req) =>
      blockClaims(deps, await merchantOf(req.params.merchantId), req.body, actorOf(req)),
  )
  app.delete(
    '/api/merchants/:merchantId/claim-blocks/:alipayUserId',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.write'),
      schema: {
        tags: blockTags,
        summary: 'Unblock a user',
        description: 'Lets the user claim again. Audited as claim_block.remove.',
        params: Type.Object({ merchantId: Type.String(), alipayUserId: Type.String() }),
        response: { 204: Type.Null(), ...Errors },
      },
    },
    async (req, reply) => {
      await unblockClaims(
        deps,
        await merchantOf(req.params.merchantId),
        req.params.alipayUserId,
        actorOf(req),
      )
      return reply.code(204).send(null)
    },
  )
}
