import type { TemplateSpec } from '@kaguan/contracts'
import { describe, expect, it } from 'vitest'
import {
  checkSpec,
  formHash,
  toAlipayForm,
  toAlipayTemplate,
  toFieldRules,
  toRgb,
} from './template-rules.js'

function spec(change: (s: TemplateSpec) => void = () => {}): TemplateSpec {
  const s: TemplateSpec = {
    basic: {
      name: '咖啡会员卡',
      validity: { type: 'afterClaim', days: 365 },
      shopIds: ['shop_1', 'shop_2'],
      servicePhone: '400-800-1234',
      description: '消费 1 元积 1 分',
    },
    style: {
      displayName: 'kaguan 咖啡',
      logoImageId: 'img_logo',
      backgroundImageId: 'img_bg',
      fontColor: '#FFFFFF',
      backgroundColor: 'rgb(111, 78, 55)',
      code: { type: 'qr' },
    },
    columns: [
      { kind: 'point', title: '积分' },
      { kind: 'level', title: '等级' },
      { kind: 'text', title: '会员日', value: '每周三' },
      { kind: 'link', title: '菜单', url: 'https://example.com/menu' },
    ],
    levels: [
      { code: 'SILVER', name: '银卡会员' },
      { code: 'GOLD', name: '金卡会员', description: '全场 9 折' },
    ],
    actions: [
      {
        code: 'MENU',
        text: '菜单',
        target: { kind: 'url', url: 'https://example.com/menu' },
        showInCardBag: false,
      },
    ],
    form: {
      fields: [
        { field: 'mobile', required: true },
        { field: 'certNo', required: false },
      ],
    },
    defaults: { point: 0, level: 'SILVER' },
  } as TemplateSpec
  change(s)
  return s
}

const ctx = {
  imageIds: new Set(['img_logo', 'img_bg']),
  shopIds: new Set(['shop_1', 'shop_2']),
  today: '2026-12-02',
}
const fields = (s: TemplateSpec) => checkSpec(s, ctx).map((p) => p.field)

describe('template rules', () => {
  it('accepts a complete spec', () => {
    expect(checkSpec(spec(), ctx)).toEqual([])
  })

  it('converts colours to Alipay rgb() and refuses what is not one', () => {
    expect(toRgb('#6F4E37')).toBe('rgb(111,78,55)')
    expect(toRgb(' rgb(1, 2, 3) ')).toBe('rgb(1,2,3)')
    expect(toRgb('rgb(256,0,0)')).toBeUndefined()
    expect(toRgb('red')).toBeUndefined()
    expect(fields(spec((s) => void (s.style.fontColor = 'white')))).toEqual(['style.fontColor'])
  })

  it('names each field at fault, in order', () => {
    const bad = spec((s) => {
      s.basic.validity = { type: 'fixedEnd', endDate: '2020-01-01' }
      s.basic.shopIds = ['shop_1', 'shop_x', 'shop_1']
      s.style.logoImageId = 'img_missing'
      s.style.code = { type: 'qr', refreshSeconds: 30 }
      s.levels.push({ code: 'GOLD', name: '又一个金卡' })
      s.defaults.level = 'PLATINUM'
      s.form.fields = [{ field: 'mobile', required: false }]
    })
    expect(fields(bad)).toEqual([
      'basic.validity.endDate',
      'basic.shopIds[1]',
      'basic.shopIds',
      'style.logoImageId',
      'style.code.refreshSeconds',
      'levels[2].code',
      'defaults.level',
      'form.fields',
    ])
  })

  it('keeps Alipay’s card-bag rule: 0 or 2 mini-program actions shown', () => {
    const one = spec((s) => {
      s.actions = [
        {
          code: 'A',
          text: 'A',
          target: { kind: 'miniProgram', appId: '2021000000000001' },
          showInCardBag: true,
        },
      ]
    })
    expect(fields(one)).toEqual(['actions'])
    const url = spec((s) => void (s.actions[0]!.showInCardBag = true))
    expect(fields(url)).toContain('actions[0].showInCardBag')
  })

  it('builds the Alipay template body the publish sends', () => {
    const body = toAlipayTemplate(spec(), {
      appId: '2021000000000001',
      alipayImageIds: new Map([
        ['img_logo', 'A_LOGO'],
        ['img_bg', 'A_BG'],
      ]),
      alipayShopIds: new Map([['shop_1', '2015000000000001']]),
      publicBaseUrl: 'https://card.example.com',
      paths: { callback: '/aliCallback', mdcode: '/alipay/mdcode/mch_1' },
    })
    expect(body.template_style_info).toMatchObject({
      card_show_name: 'kaguan 咖啡',
      logo_id: 'A_LOGO',
      background_id: 'A_BG',
      bg_color: 'rgb(255,255,255)',
    })
    expect(body.column_info_list?.map((c) => c.code)).toEqual([
      'POINT',
      'LEVEL',
      'CUSTOM_1',
      'CUSTOM_2',
      'TELEPHONE',
    ])
    // A shop without an Alipay shop id is not sent (it would not be shown on the card).
    expect(body.shop_ids).toEqual(['2015000000000001'])
    expect(body.open_card_conf).toEqual({
      open_card_source_type: 'ISV',
      source_app_id: '2021000000000001',
      open_card_url: 'https://card.example.com/aliCallback',
    })
    expect(body.card_level_conf?.map((l) => l.level)).toEqual(['SILVER', 'GOLD'])
    expect(body).not.toHaveProperty('mdcode_notify_conf')
    const dynamic = toAlipayTemplate(
      spec((s) => void (s.style.code = { type: 'dynamicQr' })),
      {
        appId: '2021000000000001',
        alipayImageIds: new Map([
          ['img_logo', 'A_LOGO'],
          ['img_bg', 'A_BG'],
        ]),
        alipayShopIds: new Map(),
        publicBaseUrl: 'https://card.example.com',
        paths: { callback: '/aliCallback', mdcode: '/alipay/mdcode/mch_1' },
      },
    )
    expect(dynamic.write_off_type).toBe('mdqrcode')
    expect(dynamic.mdcode_notify_conf).toEqual({
      url: 'https://card.example.com/alipay/mdcode/mch_1',
    })
  })

  it('derives field rules from the validity and columns', () => {
    const rules = (s: TemplateSpec) =>
      Object.fromEntries(toFieldRules(s).map((r) => [r.field_name, r.rule_value]))
    expect(rules(spec())).toMatchObject({ Point: 'Point', Level: 'Level', ValidDate: '365d' })
    expect(
      rules(spec((s) => void (s.basic.validity = { type: 'fixedEnd', endDate: '2027-06-30' }))),
    ).toMatchObject({ ValidDate: '2027-06-30 23:59:59' })
  })

  it('maps the form with a certificate asked together with its type, hashed stably', () => {
    expect(toAlipayForm(spec())).toEqual({
      required: { common_fields: ['OPEN_FORM_FIELD_MOBILE'] },
      optional: { common_fields: ['OPEN_FORM_FIELD_CERT_TYPE', 'OPEN_FORM_FIELD_CERT_NO'] },
    })
    const reordered = spec((s) => void s.form.fields.reverse())
    expect(formHash(reordered)).toBe(formHash(spec()))
    const changed = spec((s) => void (s.form.fields[1]!.required = true))
    expect(formHash(changed)).not.toBe(formHash(spec()))
  })
})
