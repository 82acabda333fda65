import { describe, expect, it } from 'vitest'
import { publishAdvice } from './publish-advice.js'

describe('publishAdvice', () => {
  it('points ERR010 and callback mismatches at the callback address', () => {
    expect(publishAdvice({ errcode: 'ALIPAY_CALLBACK_MISMATCH', message: '…(ERR010)' })).toContain(
      'advice.callback',
    )
  })

  it('names the public URL when Alipay cannot reach localhost', () => {
    expect(
      publishAdvice({ errcode: 'MERCHANT_PUBLIC_URL_INVALID', message: 'http://localhost:8081' }),
    ).toEqual(['advice.publicUrl'])
  })

  it('tells a missing card-bag permission and a refused upload (bad app config) apart', () => {
    expect(publishAdvice({ errcode: 'ALIPAY_PERMISSION_MISSING', message: 'no' })).toEqual([
      'advice.permission',
    ])
    expect(publishAdvice({ errcode: 'ALIPAY_IMAGE_UPLOAD_FAILED', message: 'x' })).toEqual([
      'advice.imageUpload',
    ])
    expect(publishAdvice({ errcode: 'ALIPAY_PUBLIC_KEY_WRONG', message: 'x' })).toEqual([
      'advice.appConfig',
    ])
  })

  it('adds nothing for an error it knows no advice for', () => {
    expect(publishAdvice({ errcode: 'TEMPLATE_INVALID', message: 'levels.0.code: bad' })).toEqual(
      [],
    )
  })
})
