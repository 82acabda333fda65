import { describe, expect, it } from 'vitest'
import { ALIPAY_GATEWAY_PRODUCTION, ALIPAY_GATEWAY_SANDBOX, webAuthorizeUrl } from '../src/index.js'

describe('webAuthorizeUrl', () => {
  const input = {
    appId: '2021000000000001',
    redirectUri: 'https://mini.example/stamps/exchange/x?shopId=1',
  }

  it("uses Alipay's authorization host for the production and sandbox gateways", () => {
    const prod = new URL(webAuthorizeUrl(ALIPAY_GATEWAY_PRODUCTION, input))
    expect(prod.origin + prod.pathname).toBe(
      'https://openauth.alipay.com/oauth2/publicAppAuthorize.htm',
    )
    expect(Object.fromEntries(prod.searchParams)).toEqual({
      app_id: '2021000000000001',
      scope: 'auth_base',
      redirect_uri: 'https://mini.example/stamps/exchange/x?shopId=1',
    })
    expect(new URL(webAuthorizeUrl(ALIPAY_GATEWAY_SANDBOX, input)).host).toBe(
      'openauth-sandbox.dl.alipaydev.com',
    )
  })

  it('uses any other gateway’s own origin (the emulator) and carries state', () => {
    const emu = new URL(
      webAuthorizeUrl('http://127.0.0.1:8090/gateway.do', { ...input, state: 's1' }),
    )
    expect(emu.origin + emu.pathname).toBe('http://127.0.0.1:8090/oauth2/publicAppAuthorize.htm')
    expect(emu.searchParams.get('state')).toBe('s1')
  })
})
