import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  ErrorBody,
  StampAccountView,
  StampActivityBody,
  StampActivityView,
  StampAdjustmentBody,
  StampEntryView,
  StampHoldListItem,
  StampHoldStatus,
  StampHoldView,
  PageQuery,
  Paged,
} from '@kaguan/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import * as merchants from '../../modules/merchants/index.js'
import * as stamps from '../../modules/stamps/index.js'
import { pageRequest } from '../../shared/paging.js'
import { actorOf } from './actor.js'
import { requirePermission } from './auth.js'

const Errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }
const MerchantParams = Type.Object({ merchantId: Type.String({ minLength: 1 }) })
const ActivityParams = Type.Object({
  merchantId: Type.String({ minLength: 1 }),
  activityId: Type.String({ minLength: 1 }),
})
const AccountParams = Type.Object({
  merchantId: Type.String({ minLength: 1 }),
  accountId: Type.String({ minLength: 1 }),
})
const LedgerAnswer = Type.Object({
  entry: StampEntryView,
  balances: Type.Object({
    total: Type.Integer(),
    available: Type.Integer(),
    frozen: Type.Integer(),
  }),
  hold: Type.Union([StampHoldView, Type.Null()]),
  replayed: Type.Boolean(),
})
const tags = ['stamps']

/**
 * Point collection (集点) in the admin API: activities (templates.* permissions, like card
 * templates), accounts and their ledgers (members.read), manual adjustments (members.write, audited).
 */
export function registerStampRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const merchant = (id: string) => merchants.getMerchant(deps, id)

  app.get(
    '/api/merchants/:merchantId/stamp-activities',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.read'),
      schema: {
        tags,
        summary: 'List stamp and exchange activities',
        description: 'Stamp (POINT_SEND) and exchange (DIRECT_SEND) activities of a merchant.',
        params: MerchantParams,
        querystring: Type.Object({
          status: Type.Optional(
            Type.Union([Type.Literal('draft'), Type.Literal('published'), Type.Literal('ended')]),
          ),
          type: Type.Optional(
            Type.Union([Type.Literal('POINT_SEND'), Type.Literal('DIRECT_SEND')]),
          ),
        }),
        response: { 200: Type.Array(StampActivityView), ...Errors },
      },
    },
    async (req) => {
      await merchant(req.params.merchantId)
      return stamps.listActivities(deps, req.params.merchantId, req.query)
    },
  )
  app.post(
    '/api/merchants/:merchantId/stamp-activities',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.write'),
      schema: {
        tags,
        summary: 'Create a draft activity',
        description:
          'A draft stamp or exchange activity; the spec is checked against the schema of its type (StampActivitySpec / ExchangeActivitySpec) and the merchant’s shops and images. 400 names every bad field; nothing reaches Alipay before publish.',
        params: MerchantParams,
        body: StampActivityBody,
        response: { 201: StampActivityView, ...Errors },
      },
    },
    async (req, reply) => {
      await merchant(req.params.merchantId)
      return reply
        .code(201)
        .send(await stamps.createActivity(deps, req.params.merchantId, req.body, actorOf(req)))
    },
  )
  app.get(
    '/api/merchants/:merchantId/stamp-activities/:activityId',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.read'),
      schema: {
        tags,
        summary: 'Get an activity',
        description: 'One activity with its status and, once published, its Koubei ids.',
        params: ActivityParams,
        response: { 200: StampActivityView, ...Errors },
      },
    },
    async (req) => stamps.getActivity(deps, req.params.merchantId, req.params.activityId),
  )
  app.put(
    '/api/merchants/:merchantId/stamp-activities/:activityId',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.write'),
      schema: {
        tags,
        summary: 'Replace a draft',
        description:
          'Replace the spec of a draft; a published or ended activity cannot change (409).',
        params: ActivityParams,
        body: StampActivityBody,
        response: { 200: StampActivityView, ...Errors },
      },
    },
    async (req) =>
      stamps.updateActivity(
        deps,
        req.params.merchantId,
        req.params.activityId,
        req.body,
        actorOf(req),
      ),
  )
  app.post(
    '/api/merchants/:merchantId/stamp-activities/:activityId/publish',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.publish'),
      schema: {
        tags,
        summary: 'Publish an activity',
        description:
          'draft → published; mirrored to Koubei with koubei.marketing.campaign.activity.create (and .query for an exchange’s coupon page), notify_url at the mini role.',
        params: ActivityParams,
        response: { 200: StampActivityView, ...Errors, 503: ErrorBody },
      },
    },
    async (req) =>
      stamps.publishActivity(deps, req.params.merchantId, req.params.activityId, actorOf(req)),
  )
  app.post(
    '/api/merchants/:merchantId/stamp-activities/:activityId/end',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.publish'),
      schema: {
        tags,
        summary: 'End an activity',
        description: 'published → ended: no more earning or exchanges; the ledger is kept.',
        params: ActivityParams,
        response: { 200: StampActivityView, ...Errors },
      },
    },
    async (req) =>
      stamps.endActivity(deps, req.params.merchantId, req.params.activityId, actorOf(req)),
  )
  app.get(
    '/api/merchants/:merchantId/stamp-activities/:activityId/exchange-link',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('templates.read'),
      schema: {
        tags,
        summary: 'The exchange page of an exchange activity',
        description:
          'The link to put on the card as a URL action point (or in a QR code): opened in Alipay it goes through web authorization (auth_base) and starts the exchange. `shopId` is passed on to the coupon page.',
        params: ActivityParams,
        querystring: Type.Object({ shopId: Type.Optional(Type.String({ minLength: 1 })) }),
        response: {
          200: Type.Object({ url: Type.String(), authorizeUrl: Type.String() }),
          ...Errors,
        },
      },
    },
    async (req) =>
      stamps.exchangeLink(deps, req.params.activityId, {
        merchantId: req.params.merchantId,
        ...(req.query.shopId ? { shopId: req.query.shopId } : {}),
      }),
  )
  app.post(
    '/api/merchants/:merchantId/stamp-activities/:activityId/adjustments',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.write'),
      schema: {
        tags,
        summary: 'Adjust a member’s stamps',
        description:
          'A manual DEPOSIT (delta > 0) or CONSUME (delta < 0), audited; the idempotency key makes a retry a replay, reused for another change it is refused (409).',
        params: ActivityParams,
        body: StampAdjustmentBody,
        response: { 200: LedgerAnswer, ...Errors },
      },
    },
    async (req) => {
      const { merchantId, activityId } = req.params
      const activity = await stamps.getActivity(deps, merchantId, activityId)
      if (activity.type !== 'POINT_SEND') {
        throw stamps.StampErrors.invalid([
          { field: 'activityId', message: 'stamps live in stamp activities (POINT_SEND)' },
        ])
      }
      const memberId = await stamps.memberOfTrade(deps, merchantId, { memberId: req.body.memberId })
      return stamps.adjustStamps(
        deps,
        { merchantId, activityId, ...req.body, memberId },
        actorOf(req),
        stamps.withCardPush(deps),
      )
    },
  )
  app.get(
    '/api/merchants/:merchantId/stamp-accounts',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.read'),
      schema: {
        tags,
        summary: 'List stamp accounts',
        description:
          'Accounts (member × stamp activity) with total, available and frozen stamps, paged; oldest first by default. Filters: activityId, memberId.',
        params: MerchantParams,
        querystring: Type.Object({
          activityId: Type.Optional(Type.String({ minLength: 1 })),
          memberId: Type.Optional(Type.String({ minLength: 1 })),
          ...PageQuery(['createdAt', 'updatedAt', 'available', 'earned']),
        }),
        response: { 200: Paged(StampAccountView), ...Errors },
      },
    },
    async (req) => {
      await merchant(req.params.merchantId)
      const { page, pageSize, sort, order, ...filter } = req.query
      return stamps.pageAccounts(
        deps,
        req.params.merchantId,
        filter,
        pageRequest({ page, pageSize, sort, order }, { sort: 'createdAt', order: 'asc' }),
      )
    },
  )
  app.get(
    '/api/merchants/:merchantId/stamp-accounts/:accountId',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.read'),
      schema: {
        tags,
        summary: 'An account’s ledger',
        description: 'The account with its entries (in order, numbered by seq) and its holds.',
        params: AccountParams,
        response: {
          200: Type.Object({
            account: StampAccountView,
            entries: Type.Array(StampEntryView),
            holds: Type.Array(StampHoldView),
          }),
          ...Errors,
        },
      },
    },
    async (req) => stamps.accountHistory(deps, req.params.merchantId, req.params.accountId),
  )
  app.get(
    '/api/merchants/:merchantId/stamp-holds',
    {
      config: { tenancy: 'path' },
      preValidation: requirePermission('members.read'),
      schema: {
        tags,
        summary: 'List holds (exchanges in progress)',
        description:
          'Stamps frozen by exchanges, paged, with the member and stamp activity of their account. `status=held`: the exchanges waiting for the coupon claim, each cancelled by the worker at `expiresAt` unless claimed; soonest to expire first by default.',
        params: MerchantParams,
        querystring: Type.Object({
          status: Type.Optional(StampHoldStatus),
          activityId: Type.Optional(
            Type.String({ minLength: 1, description: 'The stamp activity of the account' }),
          ),
          exchangeActivityId: Type.Optional(Type.String({ minLength: 1 })),
          memberId: Type.Optional(Type.String({ minLength: 1 })),
          ...PageQuery(['expiresAt', 'createdAt']),
        }),
        response: { 200: Paged(StampHoldListItem), ...Errors },
      },
    },
    async (req) => {
      await merchant(req.params.merchantId)
      const { page, pageSize, sort, order, ...filter } = req.query
      return stamps.listHolds(
        deps,
        req.params.merchantId,
        filter,
        pageRequest({ page, pageSize, sort, order }, { sort: 'expiresAt', order: 'asc' }),
      )
    },
  )
}
