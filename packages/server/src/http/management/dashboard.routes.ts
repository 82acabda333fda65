import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { DashboardView, ErrorBody } from '@kaguan/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { cardStats } from '../../modules/cards/index.js'
import { DEFAULT_MERCHANT_ID, getMerchant } from '../../modules/merchants/index.js'
import { outboxCounts, OutboxStatus } from '../../modules/outbox/index.js'
import { stampStats } from '../../modules/stamps/index.js'
import { requirePermission } from './auth.js'

const Errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody }

/** The dashboard's numbers, each counted by the module that owns the data. */
export function registerDashboardRoutes(root: FastifyInstance, deps: AppDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/api/dashboard',
    {
      config: { tenancy: 'query' },
      preValidation: requirePermission('settings.read'),
      schema: {
        tags: ['operations'],
        summary: 'Dashboard numbers',
        description:
          'Cards claimed per China-time day, active cards, points and stamps issued and redeemed over the last `days` days (today included); deliveries pending and parked now; the latest claim failures with their errcode and reason.',
        querystring: Type.Object({
          merchantId: Type.Optional(Type.String({ minLength: 1 })),
          days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, default: 30 })),
        }),
        response: { 200: DashboardView, ...Errors },
      },
    },
    async (req) => {
      const merchant = await getMerchant(deps, req.query.merchantId ?? DEFAULT_MERCHANT_ID)
      const days = req.query.days ?? 30
      const [stats, counts, stamps] = await Promise.all([
        cardStats(deps, merchant.id, days),
        outboxCounts(deps, merchant.id),
        stampStats(deps, merchant.id, days),
      ])
      return {
        merchantId: merchant.id,
        days,
        ...stats,
        ...stamps,
        outbox: {
          pending: (counts[OutboxStatus.Pending] ?? 0) + (counts[OutboxStatus.Running] ?? 0),
          parked: counts[OutboxStatus.Parked] ?? 0,
        },
      }
    },
  )
}
