// Certificate mode, GBK and RSA1 against the real emulator (its own CA), and the official SDK with
// cert contents accepting the emulator's answers.
import { AlipaySdk } from 'alipay-sdk'
import { startEmulator, type RunningEmulator } from '@kaguan/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AlipayErrorCode,
  createAlipayClient,
  decodeApplyCardUrl,
  parseCertificate,
  certSn,
  rootCertSn,
  publicKeyOf,
  trustDownloadedCert,
  type AlipayClient,
  type CardTemplateCreate,
} from '../src/index.js'
import { appKeys } from './helpers/keys.js'

const CERT_APP = '2021009900000501'
const GBK_APP = '2021009900000502'

interface Certs {
  appCert: string
  appCertSn: string
  alipayPublicCert: string
  alipayCertSn: string
  alipayRootCert: string
  alipayRootCertSn: string
}

let emulator: RunningEmulator
let certs: Certs
let gbkAlipayKey: string
let certLogo: string

async function upload(client: AlipayClient): Promise<string> {
  const logo = await client.uploadImage({
    image_type: 'png',
    image_name: 'logo',
    content: Buffer.from('89504e47', 'hex'),
  })
  return logo.image_id
}

async function driver<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${emulator.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) {
    throw new Error(`${path}: HTTP ${response.status} ${text}`)
  }
  return JSON.parse(text) as T
}

function templateBiz(name: string, image = certLogo): CardTemplateCreate {
  return {
    request_id: `req-${Date.now()}-${Math.random()}`,
    card_type: 'OUT_MEMBER_CARD',
    biz_no_suffix_len: '20',
    write_off_type: 'qrcode',
    template_style_info: {
      card_show_name: name,
      logo_id: image,
      background_id: image,
      bg_color: 'rgb(55,112,179)',
    },
    column_info_list: [{ code: 'POINT', title: '积分', operate_type: 'staticinfo' }],
    field_rule_list: [
      { field_name: 'Point', rule_name: 'ASSIGN_FROM_REQUEST', rule_value: 'Point' },
    ],
  }
}

function certClient(
  rotated: { sn: string; alipayPublicCert: string }[] = [],
  alipayPublicCert = certs.alipayPublicCert,
): AlipayClient {
  return createAlipayClient({
    appId: CERT_APP,
    privateKey: appKeys.privateKey,
    certificates: {
      appCert: certs.appCert,
      alipayPublicCert,
      alipayRootCert: certs.alipayRootCert,
    },
    gateway: emulator.gatewayUrl,
    onAlipayCertRotated: (r) => {
      rotated.push(r)
    },
  })
}

describe('certificate mode, GBK and RSA1 against @kaguan/emulator', () => {
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 })
    const registered = await driver<{ certs: Certs }>('/__emulator/apps', {
      appId: CERT_APP,
      appPublicKey: publicKeyOf(appKeys.privateKey),
      certMode: true,
      callbackUrls: [],
    })
    certs = registered.certs
    gbkAlipayKey = (
      await driver<{ alipayPublicKey: string }>('/__emulator/apps', {
        appId: GBK_APP,
        appPublicKey: publicKeyOf(appKeys.privateKey),
        callbackUrls: [],
      })
    ).alipayPublicKey
    certLogo = await upload(certClient())
  })
  afterAll(async () => {
    await emulator?.close()
  })

  it('computes the SNs as the official SDK and the emulator do', () => {
    const sdk = new AlipaySdk({
      appId: CERT_APP,
      privateKey: appKeys.privateKey,
      keyType: 'PKCS8',
      appCertContent: certs.appCert,
      alipayPublicCertContent: certs.alipayPublicCert,
      alipayRootCertContent: certs.alipayRootCert,
    })
    const config = sdk.config as unknown as Record<string, string>
    expect(certSn(parseCertificate(certs.appCert))).toBe(config.appCertSn)
    expect(certSn(parseCertificate(certs.alipayPublicCert))).toBe(config.alipayCertSn)
    expect(rootCertSn(certs.alipayRootCert)).toBe(config.alipayRootCertSn)
    expect(config.appCertSn).toBe(certs.appCertSn)
    expect(config.alipayCertSn).toBe(certs.alipayCertSn)
    expect(config.alipayRootCertSn).toBe(certs.alipayRootCertSn)
  })

  it('the official alipay-sdk in cert mode, response verification on, accepts the emulator', async () => {
    const sdk = new AlipaySdk({
      appId: CERT_APP,
      privateKey: appKeys.privateKey,
      keyType: 'PKCS8',
      appCertContent: certs.appCert,
      alipayPublicCertContent: certs.alipayPublicCert,
      alipayRootCertContent: certs.alipayRootCert,
      gateway: emulator.gatewayUrl,
      camelcase: false,
    })
    const created = await sdk.exec(
      'alipay.marketing.card.template.create',
      { biz_content: templateBiz('证书模式会员卡') },
      { validateSign: true },
    )
    expect(created.code).toBe('10000')
    expect(created.template_id).toBeTruthy()
    const downloaded = await sdk.exec(
      'alipay.open.app.alipaycert.download',
      { biz_content: { alipay_cert_sn: certs.alipayCertSn } },
      { validateSign: true },
    )
    expect(Buffer.from(String(downloaded.alipay_cert_content), 'base64').toString()).toBe(
      certs.alipayPublicCert,
    )
    // A business failure is signed too, and verified.
    const failed = await sdk.exec(
      'alipay.marketing.card.template.query',
      { biz_content: { template_id: 'nope' } },
      { validateSign: true },
    )
    expect(failed.code).not.toBe('10000')
  })

  it('the emulator refuses a cert-mode app that signs without app_cert_sn', async () => {
    const sdk = new AlipaySdk({
      appId: CERT_APP,
      privateKey: appKeys.privateKey,
      keyType: 'PKCS8',
      alipayPublicKey: (
        await driver<{ alipayPublicKey: string }>('/__emulator/apps', {
          appId: '2021009900000503',
          appPublicKey: publicKeyOf(appKeys.privateKey),
        })
      ).alipayPublicKey,
      gateway: emulator.gatewayUrl,
      camelcase: false,
    })
    const answer = await sdk.exec('alipay.marketing.card.template.query', {
      biz_content: { template_id: 'x' },
    })
    expect(answer.sub_code).toBe('isv.missing-app-cert-sn')
  })

  it('publishes a template with the typed client in cert mode and handles an Alipay cert rotation mid-traffic', async () => {
    const rotated: { sn: string; alipayPublicCert: string }[] = []
    const client = certClient(rotated)
    expect(client.alipayCertSn).toBe(certs.alipayCertSn)
    const { template_id: templateId } = await client.createCardTemplate(templateBiz('证书卡'))
    expect(templateId).toBeTruthy()

    const isDownload = (c: { method: string }) => c.method === 'alipay.open.app.alipaycert.download'
    const before = (
      await driver<{ method: string }[]>(`/__emulator/calls?appId=${CERT_APP}`)
    ).filter(isDownload).length
    const next = await driver<{ alipayCertSn: string }>('/__emulator/alipay-cert/rotate', {})
    expect(next.alipayCertSn).not.toBe(certs.alipayCertSn)
    // Several calls in flight meet the new certificate at once: all succeed, one download.
    const results = await Promise.all(
      Array.from({ length: 4 }, () => client.queryCardTemplate({ template_id: templateId })),
    )
    for (const r of results) {
      expect(r.template_style_info?.card_show_name).toBe('证书卡')
    }
    expect(rotated.map((r) => r.sn)).toEqual([next.alipayCertSn])
    expect(client.alipayCertSn).toBe(next.alipayCertSn)
    const downloads = await driver<{ method: string }[]>(`/__emulator/calls?appId=${CERT_APP}`)
    expect(downloads.filter(isDownload)).toHaveLength(before + 1)

    // A client built from the stored (rotated) certificate works without a download.
    const stored = certClient([], rotated[0]!.alipayPublicCert)
    await expect(stored.queryCardTemplate({ template_id: templateId })).resolves.toBeDefined()
  })

  it('does not trust a downloaded certificate from another root', async () => {
    const other = await startEmulator({ port: 0 })
    try {
      const foreign = (await (await fetch(`${other.url}/__emulator/alipay-cert`)).json()) as {
        alipayPublicCert: string
        alipayCertSn: string
      }
      expect(() =>
        trustDownloadedCert(
          Buffer.from(foreign.alipayPublicCert).toString('base64'),
          foreign.alipayCertSn,
          certs.alipayRootCert,
        ),
      ).toThrow(/does not chain/)
    } finally {
      await other.close()
    }
  })

  it('runs a GBK app end to end: Chinese text signed and sent in GBK, answers read in GBK', async () => {
    const client = createAlipayClient({
      appId: GBK_APP,
      privateKey: appKeys.privateKey,
      alipayPublicKey: gbkAlipayKey,
      gateway: emulator.gatewayUrl,
      charset: 'GBK',
    })
    const { template_id: templateId } = await client.createCardTemplate(
      templateBiz('咖啡会员卡·甲', await upload(client)),
    )
    const template = await client.queryCardTemplate({ template_id: templateId })
    expect(template.template_style_info?.card_show_name).toBe('咖啡会员卡·甲')
    const calls = await driver<{ method: string; params: Record<string, string> }[]>(
      `/__emulator/calls?appId=${GBK_APP}`,
    )
    expect(calls.some((c) => JSON.stringify(c).includes('GBK'))).toBe(true)
    const link = await client.applyActivateUrl({ template_id: templateId, out_string: '来自测试' })
    expect(decodeApplyCardUrl(link.apply_card_url)).toMatch(/^https?:\/\//)
  })

  it('refuses an RSA (SHA1) app with advice to switch to RSA2', () => {
    let caught: unknown
    try {
      createAlipayClient({
        appId: GBK_APP,
        privateKey: appKeys.privateKey,
        alipayPublicKey: gbkAlipayKey,
        gateway: emulator.gatewayUrl,
        signType: 'RSA',
      })
    } catch (err) {
      caught = err
    }
    expect(caught).toMatchObject({ code: AlipayErrorCode.SignTypeUnsupported })
    expect(String((caught as Error).message)).toMatch(/signType.*RSA2/)
  })

  it('queries authinfo to prefill the open-card form (cert mode)', async () => {
    const client = certClient()
    const { template_id: templateId } = await client.createCardTemplate(templateBiz('预填卡'))
    await client.setFormTemplate({
      template_id: templateId,
      fields: {
        required: { common_fields: ['OPEN_FORM_FIELD_MOBILE'] },
        optional: { common_fields: ['OPEN_FORM_FIELD_NAME'] },
      },
    })
    const { userId } = await driver<{ userId: string }>('/__emulator/users', {
      name: '李四',
      mobile: '13900000000',
    })
    const { authCode } = await driver<{ authCode: string }>('/__emulator/auth-codes', {
      appId: CERT_APP,
      userId,
    })
    const token = await client.exchangeAuthCode(authCode)
    const info = await client.queryAuthInfo(
      { template_id: templateId },
      { authToken: token.access_token },
    )
    expect(info).toMatchObject({ name: '李四', mobile: '13900000000' })
    expect(info.cert_no).toBeUndefined()
  })
})
