import { describe, expect, it } from 'vitest'
import { alipayKeys, testKeyPair } from '../test/helpers/keys.js'
import { buildSignContent, signContent } from './keys.js'
import {
  decodeApplyCardUrl,
  openCardResultOf,
  parseActivateFormInfos,
  parseFormBody,
  verifyCouponNotify,
  verifyGatewayMessage,
  verifyMdcodeNotify,
  verifyNotify,
} from './notify.js'

/** Signs like Alipay: V1 leaves `sign_type` out of the content, V2 keeps it. */
function signed(
  params: Record<string, string>,
  opts: { variant?: 'V1' | 'V2'; dropEmpty?: boolean; key?: string } = {},
): Record<string, string> {
  const exclude = opts.variant === 'V2' ? ['sign'] : ['sign', 'sign_type']
  const content = buildSignContent(params, { exclude, dropEmpty: opts.dropEmpty ?? true })
  const signType = params.sign_type === 'RSA' ? 'RSA' : 'RSA2'
  return { ...params, sign: signContent(content, opts.key ?? alipayKeys.privateKey, signType) }
}

const cardNotify = {
  notify_id: 'N1',
  notify_time: '2026-11-21 10:00:00',
  notify_type: 'member_card_open',
  app_id: '2021000000000001',
  charset: 'utf-8',
  version: '1.0',
  sign_type: 'RSA2',
  biz_card_no: 'B1',
  passback: 'a%20b 100%',
}

describe('verifyNotify', () => {
  it('accepts V1 and V2 signatures and returns the parsed notification', () => {
    for (const variant of ['V1', 'V2'] as const) {
      const result = verifyNotify(signed(cardNotify, { variant }), alipayKeys.publicKeyBase64)
      expect(result).toMatchObject({
        ok: true,
        message: { notifyId: 'N1', notifyType: 'member_card_open', appId: '2021000000000001' },
      })
      if (result.ok) {
        // Values with % are verified raw (checkNotifySignV2), not decoded a second time.
        expect(result.message.params.passback).toBe('a%20b 100%')
        expect(result.message.params.sign).toBeUndefined()
      }
    }
  })

  it('rejects a tampered value, another key, and a missing sign', () => {
    const good = signed(cardNotify)
    expect(verifyNotify({ ...good, biz_card_no: 'B2' }, alipayKeys.publicKey)).toEqual({
      ok: false,
      reason: 'bad-signature',
    })
    expect(
      verifyNotify(signed(cardNotify, { key: testKeyPair().privateKey }), alipayKeys.publicKey),
    ).toEqual({
      ok: false,
      reason: 'bad-signature',
    })
    const { sign: _sign, ...unsigned } = good
    expect(verifyNotify(unsigned, alipayKeys.publicKey)).toEqual({
      ok: false,
      reason: 'missing-sign',
    })
  })

  it('accepts empty values whether the signer dropped them (Java) or kept them (Node)', () => {
    const withEmpty = { ...cardNotify, memo: '' }
    expect(verifyNotify(signed(withEmpty, { dropEmpty: true }), alipayKeys.publicKey).ok).toBe(true)
    expect(verifyNotify(signed(withEmpty, { dropEmpty: false }), alipayKeys.publicKey).ok).toBe(
      true,
    )
  })

  it('verifies a raw urlencoded body', () => {
    const body = new URLSearchParams(signed(cardNotify)).toString()
    const result = verifyNotify(body, alipayKeys.publicKey)
    expect(result.ok && result.message.params.passback).toBe('a%20b 100%')
    expect(verifyNotify(body.replace('B1', 'B9'), alipayKeys.publicKey).ok).toBe(false)
  })
})

describe('verifyCouponNotify', () => {
  const coupon = {
    buyer_id: '2088702052268530',
    merchant_uid: '2088911212445410',
    notify_time: '2016-11-10 13:45:34',
    isv_out_biz_id: 'O1',
    sign_type: 'RSA',
    charset: 'UTF-8',
    auth_app_id: '2016070801594557',
    notify_type: 'koubei_receive_coupon_notify',
    business_order: '2088702052268530|2016',
    version: '1.0',
    id: '2016',
    event_code: 'EC-promocore-prize-notice',
    app_id: '2016070801594557',
    notify_id: 'N2',
  }

  it('returns the typed coupon notification (RSA/SHA1 signature)', () => {
    expect(verifyCouponNotify(signed(coupon), alipayKeys.publicKey)).toMatchObject({
      ok: true,
      message: {
        buyerId: '2088702052268530',
        isvOutBizId: 'O1',
        eventCode: 'EC-promocore-prize-notice',
        authAppId: '2016070801594557',
      },
    })
  })

  it('rejects a correctly signed notification of another type', () => {
    const other = signed({ ...coupon, notify_type: 'trade_status_sync' })
    expect(verifyCouponNotify(other, alipayKeys.publicKey)).toMatchObject({
      ok: false,
      reason: 'bad-message',
    })
  })
})

describe('verifyGatewayMessage', () => {
  const biz = {
    template_id: 'T1',
    biz_card_no: 'B1',
    external_card_no: 'E1',
    success: 'true',
    user_id: '2088000000000001',
  }
  const message = {
    notify_id: 'N3',
    utc_timestamp: '1763690000000',
    msg_method: 'alipay.user.opencard.result.notify',
    app_id: '2021000000000001',
    version: '1.1',
    biz_content: JSON.stringify(biz),
    charset: 'utf-8',
    sign_type: 'RSA2',
  }

  it('verifies a V2-signed message (sign_type and charset signed) and parses biz_content', () => {
    const result = verifyGatewayMessage(signed(message, { variant: 'V2' }), alipayKeys.publicKey)
    expect(result).toMatchObject({
      ok: true,
      message: {
        kind: 'message',
        msgMethod: 'alipay.user.opencard.result.notify',
        bizContent: biz,
      },
    })
    if (result.ok && result.message.kind === 'message') {
      expect(openCardResultOf(result.message)).toEqual(biz)
    }
  })

  it('rejects a message whose biz_content was changed', () => {
    const good = signed(message, { variant: 'V2' })
    const changed = { ...good, biz_content: good.biz_content?.replace('"true"', '"false"') ?? '' }
    expect(verifyGatewayMessage(changed, alipayKeys.publicKey)).toEqual({
      ok: false,
      reason: 'bad-signature',
    })
  })

  it('parses a service message such as alipay.service.check', () => {
    const check = signed(
      { service: 'alipay.service.check', charset: 'GBK', sign_type: 'RSA2', biz_content: '<XML/>' },
      { variant: 'V2' },
    )
    expect(verifyGatewayMessage(check, alipayKeys.publicKey)).toMatchObject({
      ok: true,
      message: { kind: 'service', service: 'alipay.service.check', bizContent: '<XML/>' },
    })
  })
})

describe('verifyMdcodeNotify', () => {
  // "中文" in GBK is D6 D0 CE C4; Node cannot encode GBK, so the bytes are written out.
  const gbkValue = Buffer.from([0xd6, 0xd0, 0xce, 0xc4])
  const emulatorKeys = testKeyPair()
  function gbkBody(sign: string, value = '%D6%D0%CE%C4'): Buffer {
    return Buffer.from(
      `BizCardNo=B1&charset=gbk&shop=${value}&sign_type=RSA2&sign=${encodeURIComponent(sign)}`,
      'latin1',
    )
  }
  const content = Buffer.concat([Buffer.from('BizCardNo=B1&charset=gbk&shop='), gbkValue])
  const sign = signContent(content, emulatorKeys.privateKey)

  it('verifies the GBK bytes as sent and decodes the values', () => {
    const result = verifyMdcodeNotify(gbkBody(sign), { alipayPublicKey: emulatorKeys.publicKey })
    expect(result).toMatchObject({
      ok: true,
      message: { bizCardNo: 'B1', params: { shop: '中文' } },
    })
  })

  it('rejects a changed byte, and checks against the fixed Alipay key by default', () => {
    expect(
      verifyMdcodeNotify(gbkBody(sign, '%D6%D0%CE%C5'), {
        alipayPublicKey: emulatorKeys.publicKey,
      }),
    ).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    })
    expect(verifyMdcodeNotify(gbkBody(sign)).ok).toBe(false)
  })
})

describe('helpers', () => {
  it('parseFormBody decodes with the body charset', () => {
    expect(parseFormBody(Buffer.from('a=%D6%D0&charset=GBK&b=x+y', 'latin1'))).toEqual({
      a: '中',
      charset: 'GBK',
      b: 'x y',
    })
    expect(parseFormBody('a=%E4%B8%AD')).toEqual({ a: '中' })
  })

  it('decodeApplyCardUrl decodes once and leaves decoded URLs alone', () => {
    const url =
      'https://memberprod.alipay.com/account/openform/activecard.htm?app_id=1&template_id=T'
    expect(decodeApplyCardUrl(encodeURIComponent(url))).toBe(url)
    expect(decodeApplyCardUrl(url)).toBe(url)
  })

  it('parseActivateFormInfos flattens the list of single-key objects', () => {
    const infos = '[{"OPEN_FORM_FIELD_MOBILE":"13800000000"},{"OPEN_FORM_FIELD_NAME":"张三"}]'
    expect(parseActivateFormInfos(infos)).toEqual({
      OPEN_FORM_FIELD_MOBILE: '13800000000',
      OPEN_FORM_FIELD_NAME: '张三',
    })
    expect(parseActivateFormInfos(undefined)).toEqual({})
  })
})
