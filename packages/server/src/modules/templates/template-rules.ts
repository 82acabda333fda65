import type { TemplateSpec } from '@kaguan/contracts'
import type {
  CardTemplateBody,
  FormTemplateSet,
  OpenFormField,
  TemplateColumnInfo,
  TemplateFieldRule,
} from '@kaguan/alipay'
import { createHash } from 'node:crypto'
import type { FieldProblem } from '../../shared/errors.js'

/** What validation needs to know beyond the spec itself. */
export interface SpecContext {
  imageIds: ReadonlySet<string>
  shopIds: ReadonlySet<string>
  today: string
}

const HEX = /^#([0-9a-fA-F]{6})$/
const RGB = /^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$/

/** `#RRGGBB` or `rgb(r,g,b)` as Alipay's `rgb(r,g,b)`; undefined when it is not a colour. */
export function toRgb(colour: string): string | undefined {
  const hex = HEX.exec(colour.trim())
  if (hex) {
    const n = parseInt(hex[1]!, 16)
    return `rgb(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255})`
  }
  const rgb = RGB.exec(colour.trim())
  if (rgb && [rgb[1], rgb[2], rgb[3]].every((v) => Number(v) <= 255)) {
    return `rgb(${rgb[1]},${rgb[2]},${rgb[3]})`
  }
  return undefined
}

/**
 * Every rule Alipay or common sense puts on a template that the schema cannot express, each naming
 * the field at fault. Run before any call to Alipay.
 */
export function checkSpec(spec: TemplateSpec, ctx: SpecContext): FieldProblem[] {
  const problems: FieldProblem[] = []
  const add = (field: string, message: string) => problems.push({ field, message })

  if (!spec.basic.name.trim()) {
    add('basic.name', 'must not be blank')
  }
  if (spec.basic.validity.type === 'fixedEnd') {
    const { endDate } = spec.basic.validity
    if (!/^\d{4}-\d{2}-\d{2}$/.test(endDate) || Number.isNaN(Date.parse(endDate))) {
      add('basic.validity.endDate', 'must be a date yyyy-MM-dd')
    } else if (endDate < ctx.today) {
      add('basic.validity.endDate', `is in the past (${endDate})`)
    }
  }
  spec.basic.shopIds.forEach((id, i) => {
    if (!ctx.shopIds.has(id)) {
      add(`basic.shopIds[${i}]`, `unknown shop ${id}`)
    }
  })
  if (new Set(spec.basic.shopIds).size !== spec.basic.shopIds.length) {
    add('basic.shopIds', 'lists a shop twice')
  }

  if (!toRgb(spec.style.fontColor)) {
    add('style.fontColor', `"${spec.style.fontColor}" is not a colour (#RRGGBB or rgb(r,g,b))`)
  }
  if (!toRgb(spec.style.backgroundColor)) {
    add(
      'style.backgroundColor',
      `"${spec.style.backgroundColor}" is not a colour (#RRGGBB or rgb(r,g,b))`,
    )
  }
  for (const key of ['logoImageId', 'backgroundImageId'] as const) {
    if (!ctx.imageIds.has(spec.style[key])) {
      add(`style.${key}`, `unknown image ${spec.style[key]}: upload it first`)
    }
  }
  const dynamic = spec.style.code.type === 'dynamicQr' || spec.style.code.type === 'dynamicBarcode'
  if (!dynamic && spec.style.code.refreshSeconds !== undefined) {
    add('style.code.refreshSeconds', 'applies to dynamic codes only')
  }

  const levelCodes = spec.levels.map((l) => l.code)
  spec.levels.forEach((l, i) => {
    if (levelCodes.indexOf(l.code) !== i) {
      add(`levels[${i}].code`, `level ${l.code} is defined twice`)
    }
  })
  const kinds = spec.columns.map((c) => c.kind)
  for (const standard of ['point', 'level', 'balance'] as const) {
    if (kinds.filter((k) => k === standard).length > 1) {
      add('columns', `has more than one ${standard} column`)
    }
  }
  spec.columns.forEach((c, i) => {
    if (c.kind === 'level' && !spec.levels.length) {
      add(`columns[${i}]`, 'a level column needs at least one level in levels')
    }
    if (c.kind === 'link' && !/^(https?:\/\/|alipays:\/\/)/.test(c.url)) {
      add(`columns[${i}].url`, 'must be an http(s) or alipays:// URL')
    }
  })
  if (spec.defaults.level !== undefined && !levelCodes.includes(spec.defaults.level)) {
    add('defaults.level', `level ${spec.defaults.level} is not defined in levels`)
  }

  const actionCodes = spec.actions.map((a) => a.code)
  spec.actions.forEach((a, i) => {
    if (actionCodes.indexOf(a.code) !== i) {
      add(`actions[${i}].code`, `action ${a.code} is defined twice`)
    }
    if (a.target.kind === 'url' && !/^https?:\/\//.test(a.target.url)) {
      add(`actions[${i}].target.url`, 'must be an http(s) URL')
    }
    // Alipay's display_on_list lives in mini_app_url: only mini-program actions can be listed.
    if (a.target.kind === 'url' && a.showInCardBag) {
      add(
        `actions[${i}].showInCardBag`,
        'only mini-program actions can be shown in the card bag list (Alipay)',
      )
    }
  })
  const shown = spec.actions.filter((a) => a.showInCardBag).length
  if (shown !== 0 && shown !== 2) {
    add('actions', `exactly 0 or 2 actions may be shown in the card bag (Alipay), not ${shown}`)
  }

  const fields = spec.form.fields.map((f) => f.field)
  spec.form.fields.forEach((f, i) => {
    if (fields.indexOf(f.field) !== i) {
      add(`form.fields[${i}]`, `field ${f.field} is listed twice`)
    }
  })
  if (!spec.form.fields.some((f) => f.required)) {
    add('form.fields', 'at least one field must be required (Alipay)')
  }

  const expiry = spec.pointExpiry
  if (expiry) {
    if (expiry.days === undefined) {
      add('pointExpiry.days', 'AFTER_EARNED needs the days points live')
    } else if (expiry.remindDaysBefore !== undefined && expiry.remindDaysBefore >= expiry.days) {
      // A reminder as early as the points' whole life would come before they were earned.
      add('pointExpiry.remindDaysBefore', `must be less than days (${expiry.days})`)
    }
  }
  return problems
}

const FORM_FIELD: Record<TemplateSpec['form']['fields'][number]['field'], OpenFormField[]> = {
  mobile: ['OPEN_FORM_FIELD_MOBILE'],
  name: ['OPEN_FORM_FIELD_NAME'],
  gender: ['OPEN_FORM_FIELD_GENDER'],
  // A certificate number means nothing without its type; Alipay asks both together.
  certNo: ['OPEN_FORM_FIELD_CERT_TYPE', 'OPEN_FORM_FIELD_CERT_NO'],
  birthday: ['OPEN_FORM_FIELD_BIRTHDAY_WITH_YEAR'],
  email: ['OPEN_FORM_FIELD_EMAIL'],
  address: ['OPEN_FORM_FIELD_ADDRESS'],
  city: ['OPEN_FORM_FIELD_CITY'],
}

/** The `formtemplate.set` fields of a spec's form. */
export function toAlipayForm(spec: TemplateSpec): FormTemplateSet['fields'] {
  const required = spec.form.fields.filter((f) => f.required).flatMap((f) => FORM_FIELD[f.field])
  const optional = spec.form.fields.filter((f) => !f.required).flatMap((f) => FORM_FIELD[f.field])
  return {
    required: { common_fields: required },
    ...(optional.length ? { optional: { common_fields: optional } } : {}),
  }
}

/** A stable hash of the form, so an unchanged form is not sent to Alipay again. */
export function formHash(spec: TemplateSpec): string {
  const canonical = spec.form.fields
    .map((f) => `${f.field}:${f.required ? 1 : 0}`)
    .sort()
    .join(',')
  return createHash('sha256').update(canonical).digest('hex')
}

const WRITE_OFF = {
  none: 'none',
  qr: 'qrcode',
  barcode: 'barcode',
  dynamicQr: 'mdqrcode',
  dynamicBarcode: 'mdbarcode',
} as const

export interface AlipayTemplateContext {
  appId: string
  /** kaguan image id → Alipay image id. */
  alipayImageIds: ReadonlyMap<string, string>
  /** kaguan shop id → Alipay shop id (only shops that have one). */
  alipayShopIds: ReadonlyMap<string, string>
  publicBaseUrl: string
  paths: { callback: string; mdcode: string }
}

/** The field rules of a spec: where points, level, balance and validity come from at open time. */
export function toFieldRules(spec: TemplateSpec): TemplateFieldRule[] {
  const rules: TemplateFieldRule[] = [
    { field_name: 'Point', rule_name: 'ASSIGN_FROM_REQUEST', rule_value: 'Point' },
    { field_name: 'OpenDate', rule_name: 'ASSIGN_FROM_REQUEST', rule_value: 'OpenDate' },
  ]
  if (spec.columns.some((c) => c.kind === 'level') || spec.levels.length) {
    rules.push({ field_name: 'Level', rule_name: 'ASSIGN_FROM_REQUEST', rule_value: 'Level' })
  }
  if (spec.columns.some((c) => c.kind === 'balance')) {
    rules.push({ field_name: 'Balance', rule_name: 'ASSIGN_FROM_REQUEST', rule_value: 'Balance' })
  }
  const v = spec.basic.validity
  if (v.type === 'permanent') {
    rules.push({ field_name: 'ValidDate', rule_name: 'CONST', rule_value: '2099-12-31 23:59:59' })
  } else if (v.type === 'fixedEnd') {
    rules.push({ field_name: 'ValidDate', rule_name: 'CONST', rule_value: `${v.endDate} 23:59:59` })
  } else {
    rules.push({ field_name: 'ValidDate', rule_name: 'DATE_IN_FUTURE', rule_value: `${v.days}d` })
  }
  return rules
}

/** The template body Alipay's create and modify take, from a checked spec. */
export function toAlipayTemplate(spec: TemplateSpec, ctx: AlipayTemplateContext): CardTemplateBody {
  let custom = 0
  const columns: TemplateColumnInfo[] = spec.columns.map((c) => {
    switch (c.kind) {
      case 'point':
        return { code: 'POINT', title: c.title, operate_type: 'staticinfo' }
      case 'level':
        return { code: 'LEVEL', title: c.title, operate_type: 'staticinfo' }
      case 'balance':
        return { code: 'BALANCE', title: c.title, operate_type: 'staticinfo' }
      case 'text':
        return {
          code: `CUSTOM_${++custom}`,
          title: c.title,
          value: c.value,
          operate_type: 'staticinfo',
        }
      case 'link':
        return {
          code: `CUSTOM_${++custom}`,
          title: c.title,
          operate_type: 'openWeb',
          more_info: { title: c.title, url: c.url },
        }
    }
  })
  if (spec.basic.servicePhone) {
    columns.push({
      code: 'TELEPHONE',
      title: '客服电话',
      value: spec.basic.servicePhone,
      operate_type: 'staticinfo',
    })
  }
  const dynamic = spec.style.code.type === 'dynamicQr' || spec.style.code.type === 'dynamicBarcode'
  const shopIds = spec.basic.shopIds.flatMap((id) => ctx.alipayShopIds.get(id) ?? [])
  return {
    biz_no_suffix_len: '20',
    write_off_type: WRITE_OFF[spec.style.code.type],
    template_style_info: {
      card_show_name: spec.style.displayName?.trim() || spec.basic.name,
      logo_id: ctx.alipayImageIds.get(spec.style.logoImageId)!,
      background_id: ctx.alipayImageIds.get(spec.style.backgroundImageId)!,
      // Alipay's bg_color is the font colour of the card's middle area, despite its name.
      bg_color: toRgb(spec.style.fontColor)!,
      ...(spec.basic.description ? { feature_descriptions: [spec.basic.description] } : {}),
    },
    column_info_list: columns,
    field_rule_list: toFieldRules(spec),
    card_action_list: spec.actions.map((a) =>
      a.target.kind === 'url'
        ? { code: a.code, text: a.text, url_type: 'url' as const, url: a.target.url }
        : {
            code: a.code,
            text: a.text,
            url_type: 'miniAppUrl' as const,
            mini_app_url: {
              mini_app_id: a.target.appId,
              ...(a.target.page ? { mini_page_param: a.target.page } : {}),
              ...(a.target.query ? { mini_query_param: a.target.query } : {}),
              display_on_list: a.showInCardBag ? ('true' as const) : ('false' as const),
            },
          },
    ),
    open_card_conf: {
      open_card_source_type: 'ISV',
      source_app_id: ctx.appId,
      open_card_url: `${ctx.publicBaseUrl}${ctx.paths.callback}`,
    },
    // 3.1 极速版: Alipay calls this app's open-card SPI instead of the callback opening the card.
    ...(spec.openCardMode === '3.1' ? { spi_app_id: ctx.appId } : {}),
    ...(shopIds.length ? { shop_ids: shopIds } : {}),
    ...(spec.levels.length
      ? {
          card_level_conf: spec.levels.map((l) => ({
            level: l.code,
            level_show_name: l.name,
            ...(l.description ? { level_desc: l.description } : {}),
          })),
        }
      : {}),
    ...(dynamic ? { mdcode_notify_conf: { url: `${ctx.publicBaseUrl}${ctx.paths.mdcode}` } } : {}),
  }
}
