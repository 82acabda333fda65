/** Alipay's web-authorization page (网页授权) for each gateway kaguan knows by name. */
const AUTHORIZE_HOSTS: Record<string, string> = {
  'openapi.alipay.com': 'https://openauth.alipay.com',
  'openapi-sandbox.dl.alipaydev.com': 'https://openauth-sandbox.dl.alipaydev.com',
}

/**
 * The URL that sends a user, inside Alipay, through web authorization and back to `redirectUri`
 * with `auth_code` (exchange it with `alipay.system.oauth.token`). `auth_base` is silent: it names
 * the user without asking. Any other gateway (the emulator) serves the page on its own origin.
 */
export function webAuthorizeUrl(
  gateway: string,
  input: {
    appId: string
    redirectUri: string
    scope?: 'auth_base' | 'auth_user'
    state?: string
  },
): string {
  const g = new URL(gateway)
  const url = new URL('/oauth2/publicAppAuthorize.htm', AUTHORIZE_HOSTS[g.host] ?? g.origin)
  url.searchParams.set('app_id', input.appId)
  url.searchParams.set('scope', input.scope ?? 'auth_base')
  url.searchParams.set('redirect_uri', input.redirectUri)
  if (input.state !== undefined) {
    url.searchParams.set('state', input.state)
  }
  return url.toString()
}

/**
 * The third-party app authorisation page (第三方应用授权): a merchant's owner opens it, agrees, and
 * Alipay sends the browser to `redirectUri` with `app_id`, `app_auth_code` and `state`. The
 * redirect URI must be the ISV app's registered 授权回调地址. Any other gateway (the emulator)
 * serves the page on its own origin.
 */
export function appAuthorizeUrl(
  gateway: string,
  input: { appId: string; redirectUri: string; state: string },
): string {
  const g = new URL(gateway)
  const url = new URL('/oauth2/appToAppAuth.htm', AUTHORIZE_HOSTS[g.host] ?? g.origin)
  url.searchParams.set('app_id', input.appId)
  url.searchParams.set('redirect_uri', input.redirectUri)
  url.searchParams.set('state', input.state)
  return url.toString()
}
