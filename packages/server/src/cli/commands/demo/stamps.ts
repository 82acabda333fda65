import type { AppDeps } from '../../../deps.js'
import { DEFAULT_MERCHANT_ID } from '../../../modules/merchants/index.js'
import type { Shop } from '../../../modules/shops/index.js'
import {
  createActivity,
  listActivities,
  publishActivity,
  type StampActivity,
} from '../../../modules/stamps/index.js'

const ACTOR = { actor: 'demo' }
export const DEMO_STAMP_NAME = '集5点送5元'
export const DEMO_EXCHANGE_NAME = '5点换5元券'

/** What demo.json says about point collection. */
export interface DemoStamps {
  stampActivityId: string
  exchangeActivityId: string
  /** Open with `?auth_code=` of the wallet user (the card's exchange action does). */
  exchangePath: string
}

/**
 * The demo's point collection (issue 10): a stamp activity at the demo shops (one stamp per trade
 * of ¥10 or more, 5 fill the card) and its exchange (5 stamps → a ¥5 voucher, ¥20 minimum),
 * both published to the emulator's Koubei. Made once; found again by name on the next start.
 */
export async function ensureStampActivities(deps: AppDeps, shops: Shop[]): Promise<DemoStamps> {
  const published = await listActivities(deps, DEFAULT_MERCHANT_ID, { status: 'published' })
  const find = (name: string) => published.find((a) => a.name === name)
  const year = new Date().getUTCFullYear()
  const period = {
    startTime: `${year}-01-01T00:00:00+08:00`,
    endTime: `${year + 5}-01-01T00:00:00+08:00`,
    shopIds: shops.map((s) => s.id),
  }
  const publish = async (a: StampActivity) =>
    a.status === 'published' ? a : publishActivity(deps, DEFAULT_MERCHANT_ID, a.id, ACTOR)
  const stamp =
    find(DEMO_STAMP_NAME) ??
    (await publish(
      await createActivity(
        deps,
        DEFAULT_MERCHANT_ID,
        {
          type: 'POINT_SEND',
          spec: {
            name: DEMO_STAMP_NAME,
            ...period,
            card: { name: '咖啡集点卡', description: '满10元集1点,5点换5元' },
            rule: { minAmount: '10', maxPerDay: 5 },
            stampsToComplete: 5,
          },
        },
        ACTOR,
      ),
    ))
  const exchange =
    find(DEMO_EXCHANGE_NAME) ??
    (await publish(
      await createActivity(
        deps,
        DEFAULT_MERCHANT_ID,
        {
          type: 'DIRECT_SEND',
          spec: {
            name: DEMO_EXCHANGE_NAME,
            ...period,
            stampActivityId: stamp.id,
            stampsPerVoucher: 5,
            voucher: {
              type: 'MONEY',
              name: '5元代金券',
              worth: '5',
              minConsume: '20',
              validity: { type: 'RELATIVE', days: 30 },
            },
            budget: 10_000,
            allowRepeatSend: true,
          },
        },
        ACTOR,
      ),
    ))
  return {
    stampActivityId: stamp.id,
    exchangeActivityId: exchange.id,
    exchangePath: `/stamps/exchange/${exchange.id}`,
  }
}
