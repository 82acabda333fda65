import type { AlipayClient, CampaignActivityCreate, PromoTool } from '@kaguan/alipay'
import type { ExchangeActivitySpec, StampActivitySpec } from '@kaguan/contracts'
import { chinaTime } from '../../shared/china-time.js'

/** Where a published exchange activity's vouchers are claimed. */
export interface PublishedVouchers {
  campId: string
  /** Koubei's prize id (`itemId` of the coupon page). */
  itemId: string
  /** The coupon page without the per-user parameters. */
  couponUrl: string
}

/**
 * The boundary an exchange issues vouchers through. Koubei's (built now) authorises a claim with
 * `prizesend.auth` and sends the member to its coupon page; a 商家券 2.0 provider
 * (`alipay.marketing.activity.ordervoucher.*`, alipay-today.md §2) can take its place later
 * without the ledger or the exchange flow changing.
 */
export interface VoucherProvider {
  publishExchange(input: ExchangePublication): Promise<PublishedVouchers>
  /** The page where this member claims one voucher; `outBizNo` comes back in the claim notice. */
  claimUrl(input: {
    published: PublishedVouchers
    alipayUserId: string
    outBizNo: string
    shopId?: string | undefined
  }): Promise<string>
}

export interface ExchangePublication {
  activityId: string
  spec: ExchangeActivitySpec
  alipayShopIds: string[]
  /** Alipay image ids by kaguan image id. */
  alipayImageIds: ReadonlyMap<string, string>
  notifyUrl: string | undefined
}

const at = (iso: string) => chinaTime(new Date(iso))

/** biz_content of `koubei.marketing.campaign.activity.create` for a stamp activity. */
export function pointSendCampaign(input: {
  activityId: string
  spec: StampActivitySpec
  alipayShopIds: string[]
  alipayImageIds: ReadonlyMap<string, string>
}): CampaignActivityCreate {
  const { spec } = input
  const logo = spec.card.logoImageId ? input.alipayImageIds.get(spec.card.logoImageId) : undefined
  // Koubei wants the card to outlive the activity (stamps are exchanged after it ends).
  const cardEnd = new Date(new Date(spec.endTime).getTime() + 30 * 86_400_000).toISOString()
  return {
    out_biz_no: input.activityId,
    name: spec.name,
    ...(spec.description ? { desc: spec.description } : {}),
    type: 'POINT_SEND',
    start_time: at(spec.startTime),
    end_time: at(spec.endTime),
    constraint_info: { suit_shops: input.alipayShopIds },
    promo_tools: [
      {
        point_card: {
          type: 'POINT_CARD',
          name: spec.card.name,
          desc: spec.card.description,
          ...(logo ? { logo } : {}),
          start_time: at(spec.startTime),
          end_time: at(cardEnd),
        },
      },
    ],
  }
}

/** biz_content of `koubei.marketing.campaign.activity.create` for an exchange (the seed's sample). */
export function directSendCampaign(input: ExchangePublication): CampaignActivityCreate {
  const { spec } = input
  const v = spec.voucher
  const image = v.logoImageId ? input.alipayImageIds.get(v.logoImageId) : undefined
  const tool: PromoTool = {
    voucher: {
      type: v.type,
      name: v.name,
      brand_name: `${spec.stampsPerVoucher}个集点兑换`,
      ...(v.description ? { desc: v.description } : {}),
      ...(image ? { logo: image, voucher_img: image } : {}),
      ...(v.type === 'MONEY' && v.worth ? { worth_value: v.worth, max_amount: v.worth } : {}),
      ...(v.type === 'RATE' && v.rate ? { rate: v.rate } : {}),
      effect_type: 'IMMEDIATELY',
      ...(v.validity.type === 'FIXED'
        ? {
            validate_type: 'FIXED' as const,
            start_time: at(v.validity.startTime),
            end_time: at(v.validity.endTime),
          }
        : { validate_type: 'RELATIVE' as const, relative_time: String(v.validity.days) }),
      use_rule: {
        ...(v.minConsume ? { min_consume: v.minConsume } : {}),
        suit_shops: input.alipayShopIds,
      },
    },
    send_rule: { allow_repeat_send: String(spec.allowRepeatSend) },
  }
  return {
    out_biz_no: input.activityId,
    name: spec.name,
    ...(spec.description ? { desc: spec.description } : {}),
    type: 'DIRECT_SEND',
    start_time: at(spec.startTime),
    end_time: at(spec.endTime),
    budget_info: { budget_type: 'QUANTITY', budget_total: String(spec.budget) },
    constraint_info: { suit_shops: input.alipayShopIds },
    promo_tools: [tool],
    publish_channels: [{ type: 'URL_WITH_TOKEN', name: 'URL_WITH_TOKEN' }],
  }
}

/**
 * The coupon page exactly as the seed builds it: the activity's `URL_WITH_TOKEN` address (which
 * carries `itemId`) plus `token`, `outBizNo`, `buyerId`, `shopId` and `type=pointcard`.
 */
export function couponPageUrl(input: {
  couponUrl: string
  itemId: string
  token: string
  outBizNo: string
  buyerId?: string
  shopId?: string | undefined
}): string {
  const url = new URL(input.couponUrl)
  url.searchParams.set('itemId', input.itemId)
  url.searchParams.set('token', input.token)
  url.searchParams.set('outBizNo', input.outBizNo)
  if (input.buyerId) {
    url.searchParams.set('buyerId', input.buyerId)
  }
  if (input.shopId) {
    url.searchParams.set('shopId', input.shopId)
  }
  url.searchParams.set('type', 'pointcard')
  return url.toString()
}

/** The Koubei voucher provider, acting through the merchant's Alipay client. */
export function koubeiVoucherProvider(
  client: AlipayClient,
  appAuthToken: string | undefined,
): VoucherProvider {
  const opts = { appAuthToken }
  return {
    async publishExchange(input) {
      const created = await client.createCampaignActivity(directSendCampaign(input), {
        ...opts,
        notifyUrl: input.notifyUrl,
      })
      const { camp_detail: detail } = await client.queryCampaignActivity(
        { camp_id: created.camp_id },
        opts,
      )
      const channel = (detail.publish_channels ?? []).find((c) => c.type === 'URL_WITH_TOKEN')
      const ext = channel?.ext_info ? (JSON.parse(channel.ext_info) as Record<string, string>) : {}
      const couponUrl = ext.URL_WITH_TOKEN
      const itemId = couponUrl ? new URL(couponUrl).searchParams.get('itemId') : null
      if (!couponUrl || !itemId) {
        throw new Error(`Koubei activity ${created.camp_id} has no URL_WITH_TOKEN coupon page`)
      }
      return { campId: created.camp_id, itemId, couponUrl }
    },
    async claimUrl({ published, alipayUserId, outBizNo, shopId }) {
      const { token } = await client.authPrizeSend(
        // The hold's outBizNo as req_id: a retried exchange asks for the same token.
        { req_id: outBizNo, prize_id: published.itemId, user_id: alipayUserId },
        opts,
      )
      return couponPageUrl({
        couponUrl: published.couponUrl,
        itemId: published.itemId,
        token,
        outBizNo,
        buyerId: alipayUserId,
        shopId,
      })
    },
  }
}
