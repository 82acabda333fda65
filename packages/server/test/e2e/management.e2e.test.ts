import { readFileSync } from 'node:fs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminClient,
  emulatorJson,
  startStack,
  type AdminClient,
  type Stack,
} from '../helpers/kaguan.js'

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url)).toString('base64')

interface Call {
  method: string
  bizContent?: unknown
}

describe('management API against the emulator', () => {
  let stack: Stack
  let admin: AdminClient
  let operator: AdminClient
  let viewer: AdminClient
  const merchantId = 'mch_default'
  let templateId: string
  let spec: Record<string, any>

  const calls = async (method?: string) =>
    (await emulatorJson<{ calls: Call[] } | Call[]>(
      stack.emulator,
      'GET',
      `/__emulator/calls${method ? `?method=${method}` : ''}`,
    )) as any
  const callList = async (method?: string): Promise<Call[]> => {
    const r = await calls(method)
    return Array.isArray(r) ? r : r.calls
  }

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    operator = await adminClient(stack, 'operator')
    viewer = await adminClient(stack, 'viewer')
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('configures the merchant: Alipay app (keys never returned), public URL, shops', async () => {
    const res = await admin.request('PUT', `/api/merchants/${merchantId}/alipay`, {
      appId: stack.appId,
      privateKey: stack.appKeys.privateKeyPem,
      alipayPublicKey: stack.alipayPublicKey,
      gateway: stack.emulator.gatewayUrl,
    })
    expect(res.status, res.text).toBe(200)
    expect(res.body.alipay).toMatchObject({
      appId: stack.appId,
      configured: true,
      privateKeyFingerprint: stack.appKeys.fingerprint,
    })
    expect(res.text).not.toContain(stack.appKeys.privateKeyBase64.slice(0, 40))

    const url = await admin.request('PUT', `/api/merchants/${merchantId}/public-url`, {
      publicBaseUrl: stack.kaguan.urls.mini,
    })
    expect(url.status, url.text).toBe(200)
    expect(url.body.consoleAddresses).toEqual({
      appGateway: `${stack.kaguan.urls.mini}/alipay/gateway/mch_default`,
      callback: `${stack.kaguan.urls.mini}/aliCallback`,
    })

    const shop = await admin.request('POST', `/api/merchants/${merchantId}/shops`, {
      name: '南京西路店',
      address: '上海市静安区南京西路1号',
      latitude: 31.23,
      longitude: 121.47,
      alipayShopId: '2018000000000001',
    })
    expect(shop.status, shop.text).toBe(201)
  })

  it('uploads images through alipay.offline.material.image.upload, once per image', async () => {
    const logo = await operator.request('POST', `/api/merchants/${merchantId}/images`, {
      name: 'logo',
      type: 'png',
      contentBase64: fixture('logo.png'),
    })
    expect(logo.status, logo.text).toBe(201)
    const again = await operator.request('POST', `/api/merchants/${merchantId}/images`, {
      name: 'logo',
      type: 'png',
      contentBase64: fixture('logo.png'),
    })
    expect(again.body.id).toBe(logo.body.id)
    const bg = await operator.request('POST', `/api/merchants/${merchantId}/images`, {
      name: 'background',
      type: 'png',
      contentBase64: fixture('background.png'),
    })
    expect(bg.status).toBe(201)
    expect(await callList('alipay.offline.material.image.upload')).toHaveLength(2)
    const shops = await operator.request('GET', `/api/merchants/${merchantId}/shops`)
    spec = {
      basic: {
        name: '咖啡会员卡',
        validity: { type: 'afterClaim', days: 365 },
        shopIds: [shops.body.items[0].id],
        servicePhone: '400-800-1234',
        description: '积分当钱花',
      },
      style: {
        displayName: '咖啡会员',
        logoImageId: logo.body.id,
        backgroundImageId: bg.body.id,
        fontColor: '#FFFFFF',
        backgroundColor: 'rgb(40,60,90)',
        code: { type: 'dynamicQr', refreshSeconds: 60 },
      },
      columns: [
        { kind: 'point', title: '积分' },
        { kind: 'level', title: '等级' },
        { kind: 'balance', title: '余额' },
        { kind: 'text', title: '会员日', value: '每周三' },
        { kind: 'link', title: '积分商城', url: 'https://shop.example.com/mall' },
      ],
      levels: [
        { code: 'SILVER', name: '银卡' },
        { code: 'GOLD', name: '金卡', description: '9 折' },
      ],
      actions: [
        {
          code: 'MALL',
          text: '积分商城',
          target: { kind: 'miniProgram', appId: '2021000000000099', page: 'pages/mall/index' },
          showInCardBag: true,
        },
        {
          code: 'HELP',
          text: '帮助',
          target: { kind: 'url', url: 'https://shop.example.com/help' },
          showInCardBag: false,
        },
        {
          code: 'ORDER',
          text: '点单',
          target: { kind: 'miniProgram', appId: '2021000000000099', page: 'pages/order/index' },
          showInCardBag: true,
        },
      ],
      form: {
        fields: [
          { field: 'mobile', required: true },
          { field: 'name', required: true },
          { field: 'gender', required: false },
          { field: 'birthday', required: false },
        ],
      },
      defaults: { point: 10, level: 'SILVER', balance: '0' },
    }
  })

  it('uploads only clean pixels under a safe name: a script after a GIF is stripped, a fake image refused', async () => {
    const script = '<script>alert(document.cookie)</script>'
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#0a0' } })
      .gif()
      .toBuffer()
    const before = (await callList('alipay.offline.material.image.upload')).length
    const uploaded = await operator.request('POST', `/api/merchants/${merchantId}/images`, {
      name: '../../etc/evil<b>',
      type: 'gif',
      contentBase64: Buffer.concat([gif, Buffer.from(script)]).toString('base64'),
    })
    expect(uploaded.status, uploaded.text).toBe(201)
    expect(uploaded.body.name).not.toMatch(/[/\\<>]|\.\./)
    // What Alipay received (the emulator keeps the bytes): the pixels, without the script.
    const stored = Buffer.from(await (await fetch(uploaded.body.url)).arrayBuffer())
    expect((await sharp(stored).metadata()).format).toBe('gif')
    expect(stored.includes(Buffer.from(script))).toBe(false)

    const fake = await operator.request('POST', `/api/merchants/${merchantId}/images`, {
      name: 'fake',
      type: 'gif',
      contentBase64: Buffer.from(`GIF89a${script}`).toString('base64'),
    })
    expect(fake.status).toBe(400)
    expect(fake.body).toMatchObject({ errcode: 'IMAGE_INVALID' })
    expect(fake.text).toContain('contentBase64')
    expect(await callList('alipay.offline.material.image.upload')).toHaveLength(before + 1)
  })

  it('refuses bad input with 400 naming the field, sending nothing to Alipay', async () => {
    const before = (await callList()).length
    const cases: [string, (s: any) => void, string][] = [
      ['missing name', (s) => delete s.basic.name, 'basic'],
      ['colour not a colour', (s) => (s.style.fontColor = 'white-ish'), 'style.fontColor'],
      [
        'level referenced but not defined',
        (s) => (s.defaults.level = 'PLATINUM'),
        'defaults.level',
      ],
      ['unknown shop', (s) => (s.basic.shopIds = ['shop_nope']), 'basic.shopIds[0]'],
      ['unknown image', (s) => (s.style.logoImageId = 'img_nope'), 'style.logoImageId'],
      ['one action in the card bag', (s) => (s.actions[2].showInCardBag = false), 'actions'],
      [
        'a URL action in the card bag',
        (s) => (s.actions[1].showInCardBag = true),
        'actions[1].showInCardBag',
      ],
    ]
    for (const [what, mutate, field] of cases) {
      const bad = structuredClone(spec)
      mutate(bad)
      const res = await operator.request('POST', `/api/merchants/${merchantId}/templates`, {
        spec: bad,
      })
      expect(res.status, what).toBe(400)
      expect(res.body.message, what).toContain(field)
    }
    const prod = await admin.request('PUT', `/api/merchants/mch_default/alipay`, {
      appId: stack.appId,
      gateway: 'production',
    })
    expect(prod.status).toBe(400)
    expect(prod.body.message).toMatch(
      /gateway: the public URL http:\/\/127\.0\.0\.1:\d+ is a loopback address/,
    )
    const created = await admin.request('POST', '/api/merchants', { name: '第二家' })
    await admin.request('PUT', `/api/merchants/${created.body.id}/alipay`, {
      appId: '2021000000000777',
      privateKey: stack.appKeys.privateKeyPem,
      alipayPublicKey: stack.alipayPublicKey,
      gateway: 'production',
    })
    const local = await admin.request('PUT', `/api/merchants/${created.body.id}/public-url`, {
      publicBaseUrl: 'http://localhost:8081',
    })
    expect(local.status).toBe(400)
    expect(local.body.message).toContain('publicBaseUrl: is localhost')
    expect((await callList()).length).toBe(before)
  })

  it('creates and publishes a template with every section, then gets a claim link and its QR code', async () => {
    const created = await operator.request('POST', `/api/merchants/${merchantId}/templates`, {
      spec,
    })
    expect(created.status, created.text).toBe(201)
    templateId = created.body.id
    expect(created.body.status).toBe('draft')

    const published = await operator.request('POST', `/api/templates/${templateId}/publish`)
    expect(published.status, published.text).toBe(200)
    expect(published.body.alipayCalls).toEqual([
      'alipay.marketing.card.template.create',
      'alipay.marketing.card.formtemplate.set',
    ])

    const got = await viewer.request('GET', `/api/templates/${templateId}`)
    expect(got.body.status).toBe('published')
    expect(got.body.alipayTemplateId).toMatch(/^\d+$/)
    const [create] = await callList('alipay.marketing.card.template.create')
    expect(create?.bizContent).toMatchObject({
      write_off_type: 'mdqrcode',
      template_style_info: { card_show_name: '咖啡会员', bg_color: 'rgb(255,255,255)' },
      shop_ids: ['2018000000000001'],
      card_level_conf: [
        { level: 'SILVER', level_show_name: '银卡' },
        { level: 'GOLD', level_show_name: '金卡', level_desc: '9 折' },
      ],
      mdcode_notify_conf: { url: `${stack.kaguan.urls.mini}/alipay/mdcode/mch_default` },
    })

    const link = await operator.request('POST', `/api/templates/${templateId}/claim-links`, {
      outString: 'poster-2026',
    })
    expect(link.status, link.text).toBe(201)
    expect(link.body.url).toContain(new URL(stack.emulator.url).host)
    const svg = await viewer.request('GET', link.body.qrSvgUrl)
    expect(svg.headers.get('content-type')).toContain('image/svg+xml')
    expect(svg.text).toContain('<svg')
    const png = await viewer.request('GET', link.body.qrPngUrl)
    expect(png.headers.get('content-type')).toBe('image/png')
  })

  it('publishes an edit with template.modify and no second formtemplate.set when the form is unchanged', async () => {
    const edited = { ...structuredClone(spec), basic: { ...spec.basic, name: '咖啡会员卡 2026' } }
    const saved = await operator.request('PUT', `/api/templates/${templateId}`, {
      spec: edited,
      revision: 1,
    })
    expect(saved.status, saved.text).toBe(200)
    expect(saved.body.status).toBe('changed')
    const stale = await operator.request('PUT', `/api/templates/${templateId}`, {
      spec: edited,
      revision: 1,
    })
    expect(stale.status).toBe(409)

    const again = await operator.request('POST', `/api/templates/${templateId}/publish`)
    expect(again.status, again.text).toBe(200)
    expect(again.body.alipayCalls).toEqual(['alipay.marketing.card.template.modify'])
    expect(await callList('alipay.marketing.card.template.create')).toHaveLength(1)
    expect(await callList('alipay.marketing.card.template.modify')).toHaveLength(1)
    expect(await callList('alipay.marketing.card.formtemplate.set')).toHaveLength(1)
  })

  it('serves the mini-program card component publicly', async () => {
    const component = await operator.request('POST', `/api/merchants/${merchantId}/components`, {
      name: '首页会员卡',
      templateId,
      outString: 'poster-2026',
    })
    expect(component.status, component.text).toBe(201)
    const res = await fetch(`${stack.kaguan.urls.mini}/api/components/${component.body.id}`)
    expect(res.status).toBe(200)
    const view = (await res.json()) as any
    expect(view.template).toMatchObject({
      name: '咖啡会员卡 2026',
      displayName: '咖啡会员',
      published: true,
    })
    expect(view.claimUrl).toContain(new URL(stack.emulator.url).host)
  })

  it('enforces roles: a viewer cannot publish, an operator cannot read or change keys', async () => {
    expect((await viewer.request('POST', `/api/templates/${templateId}/publish`)).status).toBe(403)
    expect((await viewer.request('PUT', `/api/templates/${templateId}`, { spec })).status).toBe(403)
    const denied = await operator.request('PUT', `/api/merchants/${merchantId}/alipay`, {
      appId: stack.appId,
      gateway: stack.emulator.gatewayUrl,
    })
    expect(denied.status).toBe(403)
    expect(denied.body.errcode).toBe('AUTH_FORBIDDEN')
    const seen = await operator.request('GET', `/api/merchants/${merchantId}`)
    expect(seen.body.alipay.privateKeyFingerprint).toBeNull()
    expect(
      (
        await operator.request('PUT', `/api/merchants/${merchantId}/crm`, {
          mode: 'crm',
          baseUrl: 'http://127.0.0.1:9',
          token: 'abcdefgh12',
        })
      ).status,
    ).toBe(403)
    expect(
      (await admin.request('GET', `/api/merchants/${merchantId}`)).body.alipay
        .privateKeyFingerprint,
    ).toBe(stack.appKeys.fingerprint)
  })

  it('translates Alipay failures into what the operator should do', async () => {
    await emulatorJson(stack.emulator, 'POST', '/__emulator/apps', {
      appId: stack.appId,
      appPublicKey: stack.appKeys.publicKeyBase64,
      callbackUrls: [`${stack.kaguan.urls.mini}/aliCallback`],
      products: [],
    })
    const res = await operator.request('POST', `/api/templates/${templateId}/publish`)
    expect(res.status).toBe(403)
    expect(res.body.errcode).toBe('ALIPAY_PERMISSION_MISSING')
    expect(res.body.message).toContain('会员卡')
  })

  it('describes the admin API with OpenAPI at /api/docs', async () => {
    const res = await fetch(`${stack.kaguan.urls.management}/api/docs/json`)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> }
    expect(doc.openapi).toMatch(/^3\./)
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/merchants/{merchantId}/templates',
        '/api/templates/{templateId}/publish',
        '/api/auth/login',
      ]),
    )
  })

  it('never writes a private key or password to the log', () => {
    const logs = stack.logs()
    expect(logs).not.toContain(stack.appKeys.privateKeyBase64.slice(10, 60))
    expect(logs).not.toContain('admin-password-123')
  })
})
