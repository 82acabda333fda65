import type { TemplateSpec, WalletPreview } from '@kaguan/contracts'
import { chinaDate } from '../../shared/china-time.js'
import type { Clock } from '../../shared/clock.js'
import { listShops, type Shop } from '../shops/index.js'
import { toAlipayTemplate } from './template-rules.js'
import * as repo from './templates.repository.js'
import type { AppDeps } from '../../deps.js'

/** What the preview needs besides the spec: image addresses and the merchant's shops. */
export interface PreviewContext {
  /** kaguan image id → its address (Alipay's CDN, or the emulator). */
  imageUrls: ReadonlyMap<string, string>
  shops: readonly Shop[]
  today: Date
}

const DAY_MS = 24 * 3600_000

/** The chosen shops a card will not list, with why; publishing warns with the same words. */
export function omittedShops(
  spec: TemplateSpec,
  shops: readonly Shop[],
): { id: string; name: string; reason: string }[] {
  const byId = new Map(shops.map((s) => [s.id, s]))
  return spec.basic.shopIds.flatMap((id) => {
    const shop = byId.get(id)
    if (!shop) {
      return [{ id, name: id, reason: 'the shop no longer exists' }]
    }
    return shop.alipayShopId
      ? []
      : [
          {
            id,
            name: shop.name,
            reason:
              '没有支付宝门店ID (no Alipay shop id): the card does not list it under 适用门店',
          },
        ]
  })
}

/**
 * The wallet's view of a spec, derived from the very body publishing sends
 * ({@link toAlipayTemplate}), so the console's preview cannot drift from what Alipay gets.
 */
export function toWalletPreview(spec: TemplateSpec, ctx: PreviewContext): WalletPreview {
  const alipayShopIds = new Map(
    ctx.shops.flatMap((s) => (s.alipayShopId ? [[s.id, s.alipayShopId] as const] : [])),
  )
  // Images are named by kaguan's id here: the preview shows them by address, not Alipay's id.
  const imageIds = new Map([
    [spec.style.logoImageId, spec.style.logoImageId],
    [spec.style.backgroundImageId, spec.style.backgroundImageId],
  ])
  const body = toAlipayTemplate(spec, {
    appId: '',
    alipayImageIds: imageIds,
    alipayShopIds,
    publicBaseUrl: '',
    paths: { callback: '', mdcode: '' },
  })
  const levelCode = spec.defaults.level ?? spec.levels[0]?.code
  const level = spec.levels.find((l) => l.code === levelCode)
  const balance =
    spec.defaults.balance ?? (spec.columns.some((c) => c.kind === 'balance') ? '0' : null)
  const sampleValue: Record<string, string | null> = {
    POINT: String(spec.defaults.point),
    LEVEL: level?.name ?? null,
    BALANCE: balance,
  }
  // toAlipayTemplate always fills these; Alipay's body type marks them optional for modify.
  const validRule = (body.field_rule_list ?? []).find((r) => r.field_name === 'ValidDate')!
  const validDate =
    validRule.rule_name === 'CONST'
      ? validRule.rule_value.slice(0, 10)
      : chinaDate(
          new Date(ctx.today.getTime() + Number.parseInt(validRule.rule_value, 10) * DAY_MS),
        )
  const style = body.template_style_info ?? {}
  const warnings: string[] = []
  const logoUrl = ctx.imageUrls.get(spec.style.logoImageId) ?? null
  const backgroundUrl = ctx.imageUrls.get(spec.style.backgroundImageId) ?? null
  if (!logoUrl) {
    warnings.push(`style.logoImageId: image ${spec.style.logoImageId} is not uploaded`)
  }
  if (!backgroundUrl) {
    warnings.push(`style.backgroundImageId: image ${spec.style.backgroundImageId} is not uploaded`)
  }
  const omitted = omittedShops(spec, ctx.shops)
  for (const shop of omitted) {
    warnings.push(`basic.shopIds: ${shop.name} — ${shop.reason}`)
  }
  const byId = new Map(ctx.shops.map((s) => [s.id, s]))
  return {
    cardShowName: style.card_show_name ?? spec.basic.name,
    logoUrl,
    backgroundUrl,
    fontColor: style.bg_color ?? toRgbOrSame(spec.style.fontColor),
    backgroundColor: toRgbOrSame(spec.style.backgroundColor),
    descriptions: style.feature_descriptions ?? [],
    columns: (body.column_info_list ?? []).map((c) => ({
      code: c.code,
      title: c.title ?? '',
      value: c.value ?? sampleValue[c.code] ?? null,
      ...(c.more_info?.url ? { url: c.more_info.url } : {}),
    })),
    actions: (body.card_action_list ?? []).map((a) => ({
      code: a.code,
      text: a.text,
      target: a.url_type === 'url' ? ('url' as const) : ('miniProgram' as const),
      showInCardList: a.url_type === 'miniAppUrl' && a.mini_app_url?.display_on_list === 'true',
    })),
    levels: (body.card_level_conf ?? []).map((l) => ({
      code: l.level,
      name: l.level_show_name ?? l.level,
      ...(l.level_desc ? { description: l.level_desc } : {}),
    })),
    sample: {
      point: spec.defaults.point,
      level: level ? { code: level.code, name: level.name } : null,
      balance,
      validDate,
    },
    code: { type: spec.style.code.type, writeOffType: body.write_off_type ?? 'none' },
    shops: {
      shown: spec.basic.shopIds
        .filter((id) => alipayShopIds.has(id))
        .map((id) => ({ id, name: byId.get(id)!.name })),
      omitted,
    },
    warnings,
  }
}

function toRgbOrSame(colour: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour.trim())
  return m
    ? `rgb(${m
        .slice(1)
        .map((h) => Number.parseInt(h, 16))
        .join(',')})`
    : colour
}

/** The preview of a spec of the merchant, with its images and shops looked up. */
export async function previewSpec(
  deps: { clock: Clock } & Pick<AppDeps, 'db'>,
  merchantId: string,
  spec: TemplateSpec,
): Promise<WalletPreview> {
  const { db } = deps
  const [images, shops] = await Promise.all([
    repo.findImages(db, merchantId, [spec.style.logoImageId, spec.style.backgroundImageId]),
    listShops(deps, merchantId),
  ])
  return toWalletPreview(spec, {
    imageUrls: new Map(images.map((i) => [i.id, i.url])),
    shops,
    today: deps.clock.now(),
  })
}
