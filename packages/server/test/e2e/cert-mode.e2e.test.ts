// Certificate mode (公钥证书), GBK and RSA1 through the admin API, kaguan and the emulator's own CA:
// a cert-mode app publishes a template and a user claims a card; an Alipay certificate rotation
// mid-traffic is handled without a failed call; a GBK app works end to end; an RSA app is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certExpiryWarnings } from '../../src/cli/commands/config-check.js'
import {
  adminClient,
  cardSpec,
  configureMerchant,
  emulatorCards,
  emulatorJson,
  publishCard,
  startStack,
  type AdminClient,
  type Stack,
} from '../helpers/kaguan.js'

interface Certs {
  appCert: string
  appCertSn: string
  alipayPublicCert: string
  alipayCertSn: string
  alipayRootCert: string
  alipayRootCertSn: string
}

async function claimCard(stack: Stack, claimUrl: string, name: string) {
  const { userId } = await emulatorJson<{ userId: string }>(
    stack.emulator,
    'POST',
    '/__emulator/users',
    {
      name,
      mobile: '13800138000',
      gender: '男',
    },
  )
  const res = await emulatorJson<{ status: number; body: string }>(
    stack.emulator,
    'POST',
    '/__emulator/claim',
    {
      userId,
      applyCardUrl: claimUrl,
      form: {
        OPEN_FORM_FIELD_MOBILE: '13800138000',
        OPEN_FORM_FIELD_NAME: name,
        OPEN_FORM_FIELD_GENDER: '男',
      },
    },
  )
  return { userId, res }
}

describe('certificate mode, GBK and RSA1 end to end', () => {
  let stack: Stack
  let admin: AdminClient
  let images: { logoId: string; backgroundId: string }
  let certs: Certs

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    images = await configureMerchant(stack, admin)
    // The open platform switches the app to certificate mode: the emulator's CA issues the app
    // certificate for the app key and hands out the Alipay and root certificates.
    const registered = await emulatorJson<{ certs: Certs }>(
      stack.emulator,
      'POST',
      '/__emulator/apps',
      {
        appId: stack.appId,
        appPublicKey: stack.appKeys.publicKeyBase64,
        certMode: true,
        gatewayUrl: `${stack.kaguan.urls.mini}/alipay/gateway`,
        callbackUrls: [`${stack.kaguan.urls.mini}/aliCallback`],
      },
    )
    certs = registered.certs
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('refuses an RSA (SHA1) app with advice to switch to RSA2', async () => {
    const res = await admin.request('PUT', '/api/merchants/mch_default/alipay', {
      appId: stack.appId,
      gateway: stack.emulator.gatewayUrl,
      signType: 'RSA',
    })
    expect(res.status, res.text).toBe(400)
    expect(res.body.errcode ?? res.body.code).toBe('MERCHANT_ALIPAY_SIGN_TYPE_UNSUPPORTED')
    expect(res.text).toMatch(/signType.*RSA2/)
  })

  it('refuses a cert-mode app without its certificates, naming the fields', async () => {
    const res = await admin.request('PUT', '/api/merchants/mch_default/alipay', {
      appId: stack.appId,
      gateway: stack.emulator.gatewayUrl,
      signMode: 'cert',
      appCert: certs.appCert,
    })
    expect(res.status, res.text).toBe(400)
    expect(res.text).toContain('alipayPublicCert')
    expect(res.text).toContain('alipayRootCert')
  })

  it('saves the certificates, shows their SNs, publishes a template and a user claims a card', async () => {
    const saved = await admin.request('PUT', '/api/merchants/mch_default/alipay', {
      appId: stack.appId,
      gateway: stack.emulator.gatewayUrl,
      signMode: 'cert',
      appCert: certs.appCert,
      alipayPublicCert: certs.alipayPublicCert,
      alipayRootCert: certs.alipayRootCert,
    })
    expect(saved.status, saved.text).toBe(200)
    expect(saved.text).not.toContain('BEGIN CERTIFICATE')
    expect(saved.body.alipay).toMatchObject({
      signMode: 'cert',
      configured: true,
      certificates: {
        appCert: { sn: certs.appCertSn },
        alipayCert: { sn: certs.alipayCertSn },
        rootCert: { sn: certs.alipayRootCertSn },
        expiresSoon: false,
      },
    })
    const card = await publishCard(admin, cardSpec(images, { name: '证书模式会员卡' }))
    const { userId, res } = await claimCard(stack, card.claimUrl, '张三')
    expect(res.status, res.body).toBe(200)
    expect(res.body).toContain('领卡成功')
    const [opened] = await emulatorCards(stack, { userId })
    expect(opened).toMatchObject({ templateId: card.alipayTemplateId, status: 'ACTIVE' })
    // Every call went out with the cert SNs.
    const calls = await emulatorJson<{ params: Record<string, string> }[]>(
      stack.emulator,
      'GET',
      `/__emulator/calls?appId=${stack.appId}&method=alipay.marketing.card.open`,
    )
    expect(calls.at(-1)?.params).toMatchObject({
      app_cert_sn: certs.appCertSn,
      alipay_root_cert_sn: certs.alipayRootCertSn,
    })
  })

  it('reports the expiry: metric, config check warning', async () => {
    const text = await (await fetch(`${stack.kaguan.urls.core}/metrics`)).text()
    const line = text.split('\n').find((l) => l.startsWith('kaguan_alipay_cert_expiry_seconds{'))
    expect(line).toContain('merchant="mch_default"')
    const seconds = Number(line!.split(' ').at(-1))
    expect(seconds).toBeGreaterThan(300 * 86_400)
    expect(seconds).toBeLessThan(366 * 86_400)
    expect(await certExpiryWarnings(stack.kaguan.deps.db, 30)).toEqual([])
    const warnings = await certExpiryWarnings(stack.kaguan.deps.db, 400)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/mch_default.*expires at .*in \d+ days/)
  })

  it('handles an Alipay certificate rotation mid-traffic: downloads, checks, stores, goes on', async () => {
    const rotated = await emulatorJson<{ alipayCertSn: string }>(
      stack.emulator,
      'POST',
      '/__emulator/alipay-cert/rotate',
      {},
    )
    const card = await publishCard(admin, cardSpec(images, { name: '轮换后的会员卡' }))
    expect(card.alipayTemplateId).toBeTruthy()
    const view = await admin.request('GET', '/api/merchants/mch_default')
    expect(view.body.alipay.certificates.alipayCert.sn).toBe(rotated.alipayCertSn)
    expect(view.body.alipay.certificates.appCert.sn).toBe(certs.appCertSn)
    expect(stack.logs()).not.toContain('BEGIN CERTIFICATE')
    const audit = await admin.request(
      'GET',
      '/api/merchants/mch_default/audit?action=merchant.alipay.cert_rotated',
    )
    if (audit.status === 200) {
      expect(audit.text).toContain(rotated.alipayCertSn)
    }
  })

  it('runs a GBK app end to end (cert mode too): publish with Chinese text, claim', async () => {
    const saved = await admin.request('PUT', '/api/merchants/mch_default/alipay', {
      appId: stack.appId,
      gateway: stack.emulator.gatewayUrl,
      charset: 'GBK',
    })
    expect(saved.status, saved.text).toBe(200)
    expect(saved.body.alipay.charset).toBe('GBK')
    const card = await publishCard(admin, cardSpec(images, { name: '咖啡会员卡·GBK' }))
    const template = await emulatorJson<{ params: Record<string, string> }[]>(
      stack.emulator,
      'GET',
      `/__emulator/calls?appId=${stack.appId}&method=alipay.marketing.card.template.create`,
    )
    expect(template.at(-1)?.params.charset).toBe('GBK')
    expect(JSON.stringify(template.at(-1))).toContain('咖啡会员卡·GBK')
    const { userId, res } = await claimCard(stack, card.claimUrl, '王五')
    expect(res.status, res.body).toBe(200)
    const [opened] = await emulatorCards(stack, { userId })
    expect(opened).toMatchObject({ templateId: card.alipayTemplateId, status: 'ACTIVE' })
  })
})
