import { AlipaySdk } from 'alipay-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signText, requestSignContent } from '../src/index.js'
import type { RunningEmulator } from '../src/index.js'
import { parsePrivateKey } from '../src/crypto.js'
import { drive, merchantKeys, registerApp, startMerchant, startTestEmulator } from './helpers.js'

type Result = Record<string, unknown>

describe('gateway protocol', () => {
  let emulator: RunningEmulator
  beforeAll(async () => {
    emulator = await startTestEmulator()
  })
  afterAll(async () => {
    await emulator.close()
  })

  it('rejects a request signed with another key: 40002 isv.invalid-signature echoing the sign string', async () => {
    const { appId, alipayPublicKey } = await registerApp(emulator)
    const wrong = new AlipaySdk({
      appId,
      privateKey: merchantKeys().privateKey,
      keyType: 'PKCS8',
      alipayPublicKey,
      gateway: emulator.gatewayUrl,
      camelcase: false,
    })
    const result = (await wrong.exec(
      'alipay.marketing.card.template.query',
      { bizContent: { template_id: '1' } },
      { validateSign: true },
    )) as Result
    expect(result).toMatchObject({
      code: '40002',
      msg: 'Invalid Arguments',
      sub_code: 'isv.invalid-signature',
    })
    expect(String(result.sub_msg)).toContain(`app_id=${appId}&amp;biz_content=`)
  })

  it('accepts a bare-base64 app key and a GET query request signed by hand', async () => {
    const { appId, keys } = await registerApp(emulator, { bareKey: true })
    const params: Record<string, string> = {
      app_id: appId,
      method: 'alipay.marketing.card.template.query',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: '2026-01-01 12:00:00',
      version: '1.0',
      biz_content: JSON.stringify({ template_id: 'missing' }),
    }
    params.sign = signText(requestSignContent(params), parsePrivateKey(keys.privateKey))
    const response = await fetch(`${emulator.gatewayUrl}?${new URLSearchParams(params).toString()}`)
    const body = (await response.json()) as Record<string, Result>
    expect(body.alipay_marketing_card_template_query_response).toMatchObject({
      code: '40004',
      sub_code: 'TEMPLATE_NOT_EXIST',
    })
    expect(typeof body.sign).toBe('string')
  })

  it('answers 40001 for missing protocol parameters, under error_response when method is missing', async () => {
    const missingMethod = (await (
      await fetch(emulator.gatewayUrl, { method: 'POST' })
    ).json()) as Record<string, Result>
    expect(missingMethod.error_response).toMatchObject({
      code: '40001',
      sub_code: 'isv.missing-method',
    })
    const missingSign = (await (
      await fetch(
        `${emulator.gatewayUrl}?method=alipay.marketing.card.query&app_id=1&charset=utf-8&sign_type=RSA2&timestamp=2026-01-01%2000:00:00&version=1.0`,
      )
    ).json()) as Record<string, Result>
    expect(missingSign.alipay_marketing_card_query_response).toMatchObject({
      code: '40001',
      sub_code: 'isv.missing-signature',
    })
  })

  it('answers 40002 for an unknown method and an unknown app', async () => {
    const { sdk } = await registerApp(emulator)
    const unknown = (await sdk.exec('alipay.no.such.method', {}, { validateSign: true })) as Result
    expect(unknown).toMatchObject({ code: '40002', sub_code: 'isv.invalid-method' })
    const stranger = new AlipaySdk({
      appId: '2021999999999999',
      privateKey: merchantKeys().privateKey,
      keyType: 'PKCS8',
      gateway: emulator.gatewayUrl,
      camelcase: false,
    })
    const result = (await stranger.exec('alipay.marketing.card.query', {})) as Result
    expect(result).toMatchObject({ code: '40002', sub_code: 'isv.invalid-app-id' })
  })

  it('gives an app without the member-card product the permission error of the seed FAQ', async () => {
    const { sdk } = await registerApp(emulator, { products: ['koubei'] })
    const result = (await sdk.exec(
      'alipay.marketing.card.template.create',
      { bizContent: { request_id: 'r', card_type: 'OUT_MEMBER_CARD', biz_no_suffix_len: '10' } },
      { validateSign: true },
    )) as Result
    expect(result).toMatchObject({
      code: '40006',
      msg: 'Insufficient Permissions',
      sub_code: 'isv.insufficient-isv-permissions',
    })
    expect(String(result.sub_msg)).toContain('权限不足')
  })

  it('lets an ISV act for a merchant with app_auth_token and refuses an unknown token with 20001', async () => {
    const isv = await registerApp(emulator, { products: [] })
    const merchant = await registerApp(emulator)
    const { body } = await drive<{ appAuthToken: string }>(
      emulator,
      '/__emulator/app-auth-tokens',
      { isvAppId: isv.appId, merchantAppId: merchant.appId },
    )
    const bizContent = {
      request_id: 'isv-1',
      card_type: 'OUT_MEMBER_CARD',
      biz_no_suffix_len: '10',
    }
    const created = (await isv.sdk.exec(
      'alipay.marketing.card.template.create',
      { appAuthToken: body.appAuthToken, bizContent },
      { validateSign: true },
    )) as Result
    expect(created.code).toBe('10000')
    // The template belongs to the merchant: the merchant itself can query it.
    const queried = (await merchant.sdk.exec(
      'alipay.marketing.card.template.query',
      { bizContent: { template_id: created.template_id } },
      { validateSign: true },
    )) as Result
    expect(queried.code).toBe('10000')
    const bad = (await isv.sdk.exec(
      'alipay.marketing.card.template.create',
      { appAuthToken: 'nope', bizContent },
      { validateSign: true },
    )) as Result
    expect(bad).toMatchObject({ code: '20001', sub_code: 'aop.invalid-app-auth-token' })
  })

  it('fails the claim with ERR010 when the callback is not a registered callback URL', async () => {
    const merchantServer = await startMerchant()
    try {
      const { sdk } = await registerApp(emulator, {
        callbackUrls: [`${merchantServer.url}/aliCallback`],
      })
      const created = (await sdk.exec('alipay.marketing.card.template.create', {
        bizContent: { request_id: 'e1', card_type: 'OUT_MEMBER_CARD', biz_no_suffix_len: '10' },
      })) as Result
      const link = (await sdk.exec('alipay.marketing.card.activateurl.apply', {
        bizContent: {
          template_id: created.template_id,
          callback: `${merchantServer.url}/elsewhere`,
        },
      })) as Result
      const user = await drive<{ userId: string }>(emulator, '/__emulator/users', {})
      const claim = await drive<Result>(emulator, '/__emulator/claim', {
        userId: user.body.userId,
        applyCardUrl: link.apply_card_url,
        form: {},
      })
      expect(claim.status).toBe(403)
      expect(claim.body).toMatchObject({ error: 'ERR010' })
      expect(String(claim.body.message)).toContain('ERR010')
      expect(merchantServer.received).toHaveLength(0)
    } finally {
      await merchantServer.close()
    }
  })
})

describe('fault injection', () => {
  let emulator: RunningEmulator
  beforeAll(async () => {
    emulator = await startTestEmulator()
  })
  afterAll(async () => {
    await emulator.close()
  })

  it('breaks the response signature so the SDK rejects it, for the configured count only', async () => {
    const { sdk } = await registerApp(emulator)
    await drive(emulator, '/__emulator/faults', {
      kind: 'badSignature',
      method: 'alipay.marketing.card.query',
      count: 1,
    })
    const call = () =>
      sdk.exec(
        'alipay.marketing.card.query',
        { bizContent: { target_card_no: 'x', target_card_no_type: 'BIZ_CARD' } },
        { validateSign: true },
      )
    await expect(call()).rejects.toThrow(/验签失败/)
    await expect(call()).resolves.toMatchObject({ code: '40004' })
  })

  it('answers HTTP 5xx and code 20000, per method, until cleared', async () => {
    const { sdk } = await registerApp(emulator)
    await drive(emulator, '/__emulator/faults', {
      faults: [
        { kind: 'http5xx', method: 'alipay.marketing.card.update', status: 503 },
        { kind: 'code20000', method: 'alipay.marketing.card.query' },
      ],
    })
    await expect(sdk.exec('alipay.marketing.card.update', {})).rejects.toThrow(/503/)
    await expect(
      sdk.exec('alipay.marketing.card.query', {}, { validateSign: true }),
    ).resolves.toMatchObject({ code: '20000', sub_code: 'isp.unknow-error' })
    await drive(emulator, '/__emulator/faults', undefined, 'DELETE')
    await expect(
      sdk.exec('alipay.marketing.card.query', {}, { validateSign: true }),
    ).resolves.toMatchObject({ code: '40004' })
  })

  it('adds latency to a method', async () => {
    const { sdk } = await registerApp(emulator)
    await drive(emulator, '/__emulator/faults', { kind: 'latency', latencyMs: 300, count: 1 })
    const started = Date.now()
    await sdk.exec('alipay.marketing.card.query', {})
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
  })

  it('refuses a malformed fault', async () => {
    const { status, body } = await drive<Result>(emulator, '/__emulator/faults', {
      kind: 'explode',
    })
    expect(status).toBe(400)
    expect(body.error).toBe('INVALID_FAULT')
  })
})
