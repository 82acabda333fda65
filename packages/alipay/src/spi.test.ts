import { describe, expect, it } from 'vitest'
import { alipayKeys, testKeyPair } from '../test/helpers/keys.js'
import { buildSignContent, signContent } from './keys.js'
import { signOpenCardSpiAnswer, verifyOpenCardSpi, verifyOpenCardSpiAnswer } from './spi.js'

const request = {
  method: 'spi.alipay.user.opencard.get',
  charset: 'utf-8',
  version: '1.0',
  biz_app_id: '2021000000000001',
  utc_timestamp: '2026-12-07 10:00:00',
  sign_type: 'RSA2',
  biz_content: JSON.stringify({
    open_id: '074a1cctg1lelxke4xqc0zgndid0nxi95b5lsnpazwyoco5',
    template_id: '20200312000000000414103000300846',
    out_serial_no: '1621923366000',
    biz_card_no: '000001',
    user_info: '[{"OPEN_FORM_FIELD_MOBILE":"13800138000"}]',
  }),
}

function signed(params: Record<string, string>, key = alipayKeys.privateKey) {
  const content = buildSignContent(params, { exclude: ['sign', 'sign_type'], dropEmpty: true })
  return { ...params, sign: signContent(content, key) }
}

describe('the 3.1 open-card SPI', () => {
  it('verifies a request Alipay signed and reads its business fields', () => {
    const body = new URLSearchParams(signed(request)).toString()
    const verified = verifyOpenCardSpi(body, alipayKeys.publicKey)
    expect(verified.ok).toBe(true)
    if (verified.ok) {
      expect(verified.message.appId).toBe('2021000000000001')
      expect(verified.message.biz).toMatchObject({ out_serial_no: '1621923366000' })
    }
  })

  it('refuses another key, a changed field, and a request without out_serial_no', () => {
    const other = testKeyPair()
    expect(
      verifyOpenCardSpi(signed(request, other.privateKey), alipayKeys.publicKey),
    ).toMatchObject({ ok: false, reason: 'bad-signature' })
    const changed = { ...signed(request), biz_app_id: '2021000000000002' }
    expect(verifyOpenCardSpi(changed, alipayKeys.publicKey).ok).toBe(false)
    const partial = signed({ ...request, biz_content: JSON.stringify({ template_id: 'T' }) })
    expect(verifyOpenCardSpi(partial, alipayKeys.publicKey)).toMatchObject({
      ok: false,
      reason: 'bad-message',
    })
  })

  it('signs the answer over the response text, and only the right key verifies it', () => {
    const app = testKeyPair()
    const body = signOpenCardSpiAnswer(
      {
        code: '10000',
        msg: 'Success',
        external_card_no: 'KG0001',
        open_date: '2026-12-07 10:00:00',
        valid_date: '2099-12-31 23:59:59',
        point: '10',
      },
      app.privateKey,
    )
    expect(verifyOpenCardSpiAnswer(body, app.publicKey)).toMatchObject({
      code: '10000',
      external_card_no: 'KG0001',
    })
    expect(verifyOpenCardSpiAnswer(body, testKeyPair().publicKey)).toBeUndefined()
    expect(verifyOpenCardSpiAnswer(body.replace('KG0001', 'KG0002'), app.publicKey)).toBeUndefined()
  })
})
