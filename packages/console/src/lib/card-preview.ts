import type { TemplateSpec } from '@kaguan/contracts'
import type { TemplateDraft } from './template-draft.js'

type Column = TemplateSpec['columns'][number]
type Level = TemplateSpec['levels'][number]
type Action = TemplateSpec['actions'][number]

/** What the wallet shows of a card, as the preview draws it. */
export interface CardPreview {
  title: string
  logoUrl: string | undefined
  backgroundUrl: string | undefined
  backgroundColor: string
  fontColor: string
  cardNo: string
  /** The cells under the card face (积分, 等级, ...), with the value a new member would see. */
  cells: { title: string; value: string; link: boolean }[]
  code: { kind: 'none' | 'qr' | 'barcode'; dynamic: boolean; refreshSeconds: number | undefined }
  /** Buttons on the card page; `inCardBag` ones also show in the card list. */
  actions: { text: string; inCardBag: boolean }[]
  validity:
    | { kind: 'permanent' }
    | { kind: 'fixedEnd'; endDate: string }
    | { kind: 'afterClaim'; days: number }
  servicePhone: string | undefined
  shopNames: string[]
}

export interface PreviewContext {
  /** The URL of an uploaded image, by kaguan image id. */
  imageUrl(id: string): string | undefined
  shopName(id: string): string | undefined
  /** Shown where the member's card number goes. */
  sampleCardNo: string
  /** Shown when a cell has nothing to show yet. */
  placeholder: string
}

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i
const RGB = /^rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)$/i

/** A colour the API takes (`#RRGGBB`, `rgb(r,g,b)`) as CSS, or the fallback while it is being typed. */
export function cssColour(value: string | undefined, fallback: string): string {
  return value && (HEX.test(value) || RGB.test(value)) ? value : fallback
}

type Partial2<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] }

/**
 * Maps the editor's draft (possibly half filled) to what Alipay's wallet would show a member who
 * just claimed the card: opening points, level and balance from the defaults, the style's images
 * and colours, the first four cells, the actions.
 */
export function toCardPreview(draft: Partial2<TemplateDraft>, ctx: PreviewContext): CardPreview {
  const style = draft.style ?? {}
  const basic = draft.basic ?? {}
  const levels = (draft.levels ?? []).filter((l): l is Level => Boolean(l))
  const defaults = draft.defaults ?? {}
  const openingLevel =
    levels.find((l) => l.code === defaults.level)?.name ?? levels[0]?.name ?? ctx.placeholder
  const cells = (draft.columns ?? [])
    .filter((c): c is Column => Boolean(c && c.kind))
    .map((c) => {
      const title = c.title || ctx.placeholder
      switch (c.kind) {
        case 'point':
          return { title, value: String(defaults.point ?? 0), link: false }
        case 'level':
          return { title, value: openingLevel, link: false }
        case 'balance':
          return { title, value: `¥${defaults.balance || '0.00'}`, link: false }
        case 'text':
          return { title, value: c.value || ctx.placeholder, link: false }
        case 'link':
          return { title, value: '›', link: true }
      }
    })
  const codeType = style.code?.type ?? 'none'
  const validity = basic.validity
  return {
    title: style.displayName || basic.name || ctx.placeholder,
    logoUrl: style.logoImageId ? ctx.imageUrl(style.logoImageId) : undefined,
    backgroundUrl: style.backgroundImageId ? ctx.imageUrl(style.backgroundImageId) : undefined,
    backgroundColor: cssColour(style.backgroundColor, '#1f4e8c'),
    fontColor: cssColour(style.fontColor, '#ffffff'),
    cardNo: ctx.sampleCardNo,
    cells,
    code: {
      kind: codeType === 'none' ? 'none' : codeType.toLowerCase().includes('qr') ? 'qr' : 'barcode',
      dynamic: codeType.startsWith('dynamic'),
      refreshSeconds: codeType.startsWith('dynamic')
        ? (style.code?.refreshSeconds ?? 60)
        : undefined,
    },
    actions: (draft.actions ?? [])
      .filter((a): a is Action => Boolean(a && a.text))
      .map((a) => ({ text: a.text, inCardBag: Boolean(a.showInCardBag) })),
    validity:
      validity?.type === 'fixedEnd'
        ? { kind: 'fixedEnd', endDate: validity.endDate ?? '' }
        : validity?.type === 'afterClaim'
          ? { kind: 'afterClaim', days: validity.days ?? 0 }
          : { kind: 'permanent' },
    servicePhone: basic.servicePhone || undefined,
    shopNames: (basic.shopIds ?? [])
      .map((id) => ctx.shopName(id))
      .filter((n): n is string => Boolean(n)),
  }
}
