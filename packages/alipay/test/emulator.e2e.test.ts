// Every client method against the real emulator (@kaguan/emulator): the two sides share no
// signing code, so a canonicalisation bug on either side fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AlipayErrorCode,
  createAlipayClient,
  decodeApplyCardUrl,
  parseActivateFormInfos,
  publicKeyOf,
  type AlipayClient,
} from '../src/index.js'
import { appKeys } from './helpers/keys.js'

interface RunningEmulator {
  url: string
  gatewayUrl: string
  close(): Promise<void>
}
type StartEmulator = (options: { port: number }) => Promise<RunningEmulator>

// The emulator is built in parallel; skip with a clear message rather than fail if it is not there.
const emulatorModule = (await import('@kaguan/emulator').catch(() => ({}))) as {
  startEmulator?: StartEmulator
}
const startEmulator = emulatorModule.startEmulator
if (!startEmulator) {
  console.warn('[alipay e2e] @kaguan/emulator has no startEmulator yet: emulator tests skipped')
}

const APP_ID = '2021009900000001'
let emulator: RunningEmulator
let client: AlipayClient

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

const now = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ')
const inDays = (days: number) =>
  new Date(Date.now() + 8 * 3600_000 + days * 86400_000)
    .toISOString()
    .slice(0, 19)
    .replace('T', ' ')

describe.skipIf(!startEmulator)('AlipayClient against @kaguan/emulator', () => {
  beforeAll(async () => {
    if (!startEmulator) {
      return
    }
    emulator = await startEmulator({ port: 0 })
    const registered = await driver<{ appId: string; alipayPublicKey: string }>(
      '/__emulator/apps',
      {
        appId: APP_ID,
        appPublicKey: publicKeyOf(appKeys.privateKey),
        callbackUrls: [],
        products: ['member_card', 'koubei'],
      },
    )
    client = createAlipayClient({
      appId: APP_ID,
      privateKey: appKeys.privateKeyPkcs1Base64,
      alipayPublicKey: registered.alipayPublicKey,
      gateway: emulator.gatewayUrl,
    })
  })
  afterAll(async () => {
    await emulator?.close()
  })

  it('runs the member-card flow: template → form → link → claim → token → form → open → query → update → delete', async () => {
    const logo = await client.uploadImage({
      image_type: 'png',
      image_name: 'logo',
      content: Buffer.from('89504e47', 'hex'),
    })
    expect(logo.image_id).toBeTruthy()

    const { template_id: templateId } = await client.createCardTemplate({
      request_id: `req-${Date.now()}`,
      card_type: 'OUT_MEMBER_CARD',
      biz_no_suffix_len: '20',
      write_off_type: 'qrcode',
      template_style_info: {
        card_show_name: '卡管会员卡',
        logo_id: logo.image_id,
        background_id: logo.image_id,
        bg_color: 'rgb(55,112,179)',
      },
      column_info_list: [{ code: 'POINT', title: '积分', operate_type: 'staticinfo' }],
      field_rule_list: [
        { field_name: 'Point', rule_name: 'ASSIGN_FROM_REQUEST', rule_value: 'Point' },
      ],
    })
    expect(templateId).toBeTruthy()

    await client.modifyCardTemplate({
      request_id: `mod-${Date.now()}`,
      template_id: templateId,
      template_style_info: {
        card_show_name: '卡管会员卡 Plus',
        logo_id: logo.image_id,
        background_id: logo.image_id,
        bg_color: 'rgb(1,2,3)',
      },
    })
    const template = await client.queryCardTemplate({ template_id: templateId })
    expect(template.template_style_info?.card_show_name).toBe('卡管会员卡 Plus')

    await client.setFormTemplate({
      template_id: templateId,
      fields: {
        required: { common_fields: ['OPEN_FORM_FIELD_MOBILE'] },
        optional: { common_fields: ['OPEN_FORM_FIELD_NAME'] },
      },
    })
    const link = await client.applyActivateUrl({ template_id: templateId, out_string: 'from-test' })
    const applyCardUrl = decodeApplyCardUrl(link.apply_card_url)
    expect(applyCardUrl).toMatch(/^https?:\/\//)

    const { userId } = await driver<{ userId: string }>('/__emulator/users', {
      name: '张三',
      mobile: '13800000000',
    })
    const claim = await driver<{ authCode: string; requestId: string }>('/__emulator/claim', {
      userId,
      applyCardUrl,
      form: { OPEN_FORM_FIELD_MOBILE: '13800000000', OPEN_FORM_FIELD_NAME: '张三' },
    })
    expect(claim.authCode).toBeTruthy()

    const token = await client.exchangeAuthCode(claim.authCode)
    expect(token.user_id).toBe(userId)

    const form = await client.queryActivateForm(
      { biz_type: 'MEMBER_CARD', template_id: templateId, request_id: claim.requestId },
      { authToken: token.access_token },
    )
    expect(parseActivateFormInfos(form.infos)).toMatchObject({
      OPEN_FORM_FIELD_MOBILE: '13800000000',
    })

    const opened = await client.openCard(
      {
        out_serial_no: `open-${Date.now()}`,
        card_template_id: templateId,
        card_user_info: { user_uni_id_type: 'UID', user_uni_id: userId },
        card_ext_info: {
          external_card_no: 'CRM0001',
          open_date: now(),
          valid_date: inDays(365),
          point: '10',
        },
        member_ext_info: { name: '张三', cell: '13800000000' },
      },
      { authToken: token.access_token },
    )
    const bizCardNo = opened.card_info.biz_card_no
    expect(bizCardNo).toBeTruthy()

    const queried = await client.queryCard({
      target_card_no: bizCardNo,
      target_card_no_type: 'BIZ_CARD',
    })
    expect(queried.card_info).toMatchObject({ external_card_no: 'CRM0001', point: '10' })

    await client.updateCard({
      target_card_no: bizCardNo,
      target_card_no_type: 'BIZ_CARD',
      occur_time: now(),
      card_info: { point: '25' },
      merchant_card_msg_info: { changed_point: '15' },
    })
    const updated = await client.queryCard({
      target_card_no: bizCardNo,
      target_card_no_type: 'BIZ_CARD',
    })
    expect(updated.card_info?.point).toBe('25')

    const deleted = await client.deleteCard({
      out_serial_no: `del-${Date.now()}`,
      target_card_no: bizCardNo,
      target_card_no_type: 'BIZ_CARD',
      reason_code: 'CANCEL',
    })
    expect(deleted).toBeDefined()

    const calls = await driver<{ method: string; result: { code: string } }[]>(
      `/__emulator/calls?appId=${APP_ID}`,
    )
    const methods = new Set(calls.filter((c) => c.result.code === '10000').map((c) => c.method))
    for (const method of [
      'alipay.offline.material.image.upload',
      'alipay.marketing.card.template.create',
      'alipay.marketing.card.template.modify',
      'alipay.marketing.card.template.query',
      'alipay.marketing.card.formtemplate.set',
      'alipay.marketing.card.activateurl.apply',
      'alipay.system.oauth.token',
      'alipay.marketing.card.activateform.query',
      'alipay.marketing.card.open',
      'alipay.marketing.card.query',
      'alipay.marketing.card.update',
      'alipay.marketing.card.delete',
    ]) {
      expect(methods, method).toContain(method)
    }
  })

  it('runs the Koubei methods: activities, points, prize-send auth', async () => {
    const { userId } = await driver<{ userId: string }>('/__emulator/users', { name: '李四' })
    const stamp = await client.createCampaignActivity({
      out_biz_no: `pc-${Date.now()}`,
      name: '集8点送20元',
      type: 'POINT_SEND',
      start_time: now(),
      end_time: inDays(30),
      constraint_info: { suit_shops: ['SHOP1'] },
      promo_tools: [
        {
          point_card: {
            type: 'POINT_CARD',
            name: '咖啡集点卡',
            start_time: now(),
            end_time: inDays(60),
          },
        },
      ],
    })
    expect(stamp.camp_id).toBeTruthy()
    const stampDetail = await client.queryCampaignActivity({ camp_id: stamp.camp_id })
    expect(stampDetail.camp_detail.type).toBe('POINT_SEND')
    const account =
      (JSON.parse(stampDetail.camp_detail.ext_info ?? '{}') as { activity_account?: string })
        .activity_account ?? stamp.camp_id

    const deposit = await client.updateToolPoints({
      req_id: `dep-${Date.now()}`,
      user_id: userId,
      activity_account: account,
      trans_type: 'DEPOSIT',
      trans_amount: '3',
      shop_id: 'SHOP1',
      biz_no: `trade-${Date.now()}`,
    })
    expect(deposit.point_log_no).toBeTruthy()
    const points = await client.queryToolPoints({ activity_account: account, user_id: userId })
    expect(points.available_points).toBe('3')

    const exchange = await client.createCampaignActivity({
      out_biz_no: `ex-${Date.now()}`,
      name: '兑换20元券',
      type: 'DIRECT_SEND',
      start_time: now(),
      end_time: inDays(30),
      budget_info: { budget_type: 'QUANTITY', budget_total: '100' },
      constraint_info: { suit_shops: ['SHOP1'] },
      promo_tools: [
        {
          voucher: {
            type: 'MONEY',
            name: '20元代金券',
            worth_value: '20',
            validate_type: 'FIXED',
            start_time: now(),
            end_time: inDays(60),
            effect_type: 'IMMEDIATELY',
            use_rule: { suit_shops: ['SHOP1'] },
          },
        },
      ],
      publish_channels: [{ type: 'URL_WITH_TOKEN', name: '领券链接' }],
    })
    const detail = await client.queryCampaignActivity({ camp_id: exchange.camp_id })
    const channel = detail.camp_detail.publish_channels?.find((c) => c.type === 'URL_WITH_TOKEN')
    const claimUrl =
      (JSON.parse(channel?.ext_info ?? '{}') as { URL_WITH_TOKEN?: string }).URL_WITH_TOKEN ?? ''
    const itemId = new URL(claimUrl).searchParams.get('itemId') ?? ''
    expect(itemId).toBeTruthy()
    const auth = await client.authPrizeSend({
      req_id: `auth-${Date.now()}`,
      prize_id: itemId,
      user_id: userId,
    })
    expect(auth.token).toBeTruthy()
  })

  it('maps the emulator business error and injected faults to AlipayError', async () => {
    const missing = await client
      .queryCard({ target_card_no: 'NO_SUCH_CARD', target_card_no_type: 'BIZ_CARD' })
      .catch((e: unknown) => e)
    expect(missing).toMatchObject({
      code: '40004',
      retryable: false,
      method: 'alipay.marketing.card.query',
    })

    await driver('/__emulator/faults', {
      kind: 'code20000',
      method: 'alipay.marketing.card.query',
      count: 1,
    })
    const unavailable = await client
      .queryCard({ target_card_no: 'X', target_card_no_type: 'BIZ_CARD' })
      .catch((e: unknown) => e)
    expect(unavailable).toMatchObject({ code: '20000', retryable: true })

    await driver('/__emulator/faults', {
      kind: 'http5xx',
      method: 'alipay.marketing.card.query',
      count: 1,
      status: 503,
    })
    const http = await client
      .queryCard({ target_card_no: 'X', target_card_no_type: 'BIZ_CARD' })
      .catch((e: unknown) => e)
    expect(http).toMatchObject({ code: AlipayErrorCode.Http, httpStatus: 503, retryable: true })

    await driver('/__emulator/faults', {
      kind: 'badSignature',
      method: 'alipay.marketing.card.template.query',
      count: 1,
    })
    const forged = await client.queryCardTemplate({ template_id: 'X' }).catch((e: unknown) => e)
    expect(forged).toMatchObject({
      code: AlipayErrorCode.ResponseSignatureInvalid,
      retryable: false,
    })
  })
})
