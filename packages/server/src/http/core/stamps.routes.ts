import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AppDeps } from '../../deps.js'
import { findCardForCrm } from '../../modules/cards/index.js'
import * as stamps from '../../modules/stamps/index.js'
import { invalidFields } from '../../shared/errors.js'

type Params = Record<string, string>
type Signed = (
  handler: (params: Params, merchantId: string) => Promise<object>,
) => (request: FastifyRequest) => Promise<object>

/**
 * The till's point-collection calls on the `core` role, signed like `/card/update` (RSA2 over the
 * sorted parameters, nonce and timestamp; `templateId` names the merchant). The member is named by
 * `alipayUserId`, or by the card number `bizCardNo`.
 */
export function registerStampCoreRoutes(
  app: FastifyInstance,
  deps: AppDeps,
  signed: Signed,
  required: (params: Params, ...fields: string[]) => void,
): void {
  const cards = deps
  const memberOf = async (p: Params, merchantId: string) => {
    if (p.alipayUserId) {
      return stamps.memberOfTrade(deps, merchantId, { alipayUserId: p.alipayUserId })
    }
    if (!p.templateId || !p.bizCardNo) {
      throw invalidFields('REQUEST_INVALID', [
        { field: 'alipayUserId', message: 'give alipayUserId, or templateId and bizCardNo' },
      ])
    }
    const card = await findCardForCrm(cards, p.templateId, p.bizCardNo)
    if (card.merchantId !== merchantId) {
      throw stamps.StampErrors.memberNotFound(p.bizCardNo)
    }
    return card.memberId
  }

  app.post(
    '/stamps/earn',
    {
      schema: {
        summary: 'Earn stamps for a till trade',
        description:
          'The till reports a paid trade: every running stamp activity’s rule decides the stamps. Idempotent by tradeNo (an Alipay notification of the same trade earns nothing more): signed.',
      },
    },
    signed(async (p, merchantId) => {
      required(p, 'tradeNo', 'amount')
      if (!/^\d+(\.\d{1,2})?$/.test(p.amount!)) {
        throw invalidFields('REQUEST_INVALID', [
          { field: 'amount', message: 'must be an amount like 12.50' },
        ])
      }
      const memberId = await memberOf(p, merchantId)
      const earned = await stamps.earnForTrade(
        deps,
        {
          merchantId,
          memberId,
          tradeNo: p.tradeNo!,
          amount: p.amount!,
          ...(p.shopId ? { shopId: p.shopId } : {}),
          ...(p.alipayShopId ? { alipayShopId: p.alipayShopId } : {}),
          source: 'till',
          actor: `till:${merchantId}`,
        },
        stamps.withCardPush(deps),
      )
      return { earned }
    }),
  )

  app.post(
    '/stamps/refund',
    {
      schema: {
        summary: 'Take back the stamps of a refunded trade',
        description:
          'What the trade earned is taken back; what was spent already is recorded as a shortfall (never below zero). Idempotent: signed.',
      },
    },
    signed(async (p, merchantId) => {
      required(p, 'tradeNo')
      const takenBack = await stamps.refundTrade(
        deps,
        { merchantId, tradeNo: p.tradeNo!, actor: `till:${merchantId}` },
        stamps.withCardPush(deps),
      )
      return { takenBack }
    }),
  )

  app.post(
    '/stamps/query',
    {
      schema: {
        summary: 'A member’s stamp accounts',
        description: 'Total, available and frozen stamps per activity (or one activity): signed.',
      },
    },
    signed(async (p, merchantId) => {
      const memberId = await memberOf(p, merchantId)
      const accounts = await stamps.listAccounts(deps, merchantId, {
        memberId,
        ...(p.activityId ? { activityId: p.activityId } : {}),
      })
      return { accounts }
    }),
  )
}
