import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminClient,
  cardSpec,
  configureMerchant,
  emulatorJson,
  startStack,
  type AdminClient,
  type Stack,
} from '../helpers/kaguan.js'

const M = 'mch_default'

describe('template preview and publish warnings against the emulator', () => {
  let stack: Stack
  let admin: AdminClient
  let viewer: AdminClient
  let spec: Record<string, any>
  let templateId: string
  let withId: string
  let withoutId: string
  let images: { logoId: string; backgroundId: string }

  beforeAll(async () => {
    stack = await startStack({ roles: ['management', 'mini'] })
    admin = await adminClient(stack, 'admin')
    viewer = await adminClient(stack, 'viewer')
    images = await configureMerchant(stack, admin)
    const shop = async (name: string, alipayShopId?: string) => {
      const r = await admin.request('POST', `/api/merchants/${M}/shops`, {
        name,
        latitude: 31.23,
        longitude: 121.47,
        ...(alipayShopId ? { alipayShopId } : {}),
      })
      expect(r.status, r.text).toBe(201)
      return r.body.id as string
    }
    withId = await shop('静安寺店', '2015060900077000000000000001')
    withoutId = await shop('徐家汇店')
    spec = {
      ...cardSpec(images),
      columns: [
        { kind: 'point', title: '积分' },
        { kind: 'level', title: '等级' },
        { kind: 'text', title: '会员日', value: '每周三' },
      ],
      actions: [
        { code: 'SHOP', text: '去商城', target: { kind: 'url', url: 'https://shop.example.com' } },
      ],
    }
    spec.basic = { ...spec.basic, shopIds: [withId, withoutId], servicePhone: '4008001234' }
    spec.style = { ...spec.style, displayName: '静安会员' }
    const created = await admin.request('POST', `/api/merchants/${M}/templates`, { spec })
    expect(created.status, created.text).toBe(201)
    templateId = created.body.id
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('previews the saved draft as the wallet shows it, for a viewer too', async () => {
    const res = await viewer.request('GET', `/api/merchants/${M}/templates/${templateId}/preview`)
    expect(res.status, res.text).toBe(200)
    const p = res.body
    expect(p.cardShowName).toBe('静安会员')
    expect(p.fontColor).toBe('rgb(255,255,255)')
    expect(p.backgroundColor).toBe('rgb(51,51,51)')
    expect(p.logoUrl).toMatch(/^https?:\/\//)
    expect(p.backgroundUrl).toMatch(/^https?:\/\//)
    expect(p.logoUrl).not.toBe(p.backgroundUrl)
    expect(p.columns).toEqual([
      { code: 'POINT', title: '积分', value: '10' },
      { code: 'LEVEL', title: '等级', value: '银卡' },
      { code: 'CUSTOM_1', title: '会员日', value: '每周三' },
      { code: 'TELEPHONE', title: '客服电话', value: '4008001234' },
    ])
    expect(p.actions).toEqual([
      { code: 'SHOP', text: '去商城', target: 'url', showInCardList: false },
    ])
    expect(p.levels.map((l: { code: string }) => l.code)).toEqual(['SILVER', 'GOLD'])
    expect(p.sample).toMatchObject({ point: 10, level: { code: 'SILVER', name: '银卡' } })
    expect(p.sample.validDate).toBe('2099-12-31')
    expect(p.code).toEqual({ type: 'qr', writeOffType: 'qrcode' })
    expect(p.shops.shown).toEqual([{ id: withId, name: '静安寺店' }])
    expect(p.shops.omitted).toEqual([
      { id: withoutId, name: '徐家汇店', reason: expect.stringContaining('没有支付宝门店ID') },
    ])
    expect(p.warnings.join('\n')).toContain('徐家汇店')

    const missing = await viewer.request('GET', `/api/merchants/${M}/templates/tpl_nope/preview`)
    expect(missing.status).toBe(404)
  })

  it('previews an unsaved spec for the live editor, and names what it lacks', async () => {
    const edited = {
      ...spec,
      basic: { ...spec.basic, validity: { type: 'afterClaim', days: 30 } },
      style: { ...spec.style, displayName: undefined, code: { type: 'dynamicQr' } },
    }
    const res = await viewer.request('POST', `/api/merchants/${M}/templates/preview`, {
      spec: edited,
    })
    expect(res.status, res.text).toBe(200)
    expect(res.body.cardShowName).toBe('测试会员卡')
    expect(res.body.code).toEqual({ type: 'dynamicQr', writeOffType: 'mdqrcode' })
    expect(res.body.sample.validDate).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(res.body.sample.validDate > new Date().toISOString().slice(0, 10)).toBe(true)

    const bad = await viewer.request('POST', `/api/merchants/${M}/templates/preview`, {
      spec: { ...spec, style: { ...spec.style, logoImageId: undefined } },
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errcode).toBe('TEMPLATE_INVALID')
    expect(bad.text).toContain('logoImageId')
  })

  it('warns on publish about a shop the card will not list, and keeps viewers out', async () => {
    const refused = await viewer.request('POST', `/api/templates/${templateId}/publish`)
    expect(refused.status).toBe(403)
    const published = await admin.request('POST', `/api/templates/${templateId}/publish`)
    expect(published.status, published.text).toBe(200)
    expect(published.body.warnings).toEqual([expect.stringMatching(/^徐家汇店: 没有支付宝门店ID/)])
    // And Alipay got only the shop it knows.
    const calls = await emulatorJson<any>(
      stack.emulator,
      'GET',
      '/__emulator/calls?method=alipay.marketing.card.template.create',
    )
    const list = Array.isArray(calls) ? calls : calls.calls
    expect(list.at(-1).bizContent.shop_ids).toEqual(['2015060900077000000000000001'])
  })
})
