import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { fixedClock, testConfig, testDeps } from '../../../test/helpers/deps.js'
import { fakeAlipay } from '../../../test/helpers/fakes.js'
import type { AlipayPort } from '../../ports/alipay.js'
import { generateRsaKeyPair } from '../../shared/rsa-keys.js'
import {
  alipayContext,
  completeAppAuth,
  ensureDefaultMerchant,
  getAppAuth,
  handleAppAuthCancelled,
  notifiedApp,
  onboardMerchant,
  refreshDueAppAuths,
  usesAlipayApp,
} from './index.js'

const ISV = '2021009900000009'
const MERCHANT_APP = '2021000000000077'
const actor = { actor: 'admin:test' }

/** The fake Alipay, answering token.app like Alipay: a day-long token, then a year-long one. */
function isvFake(): AlipayPort & { exchanged: string[]; refreshed: string[] } {
  const fake = fakeAlipay()
  const exchanged: string[] = []
  const refreshed: string[] = []
  let n = 0
  return {
    exchanged,
    refreshed,
    forMerchant(app) {
      const client = fake.forMerchant(app)
      return {
        ...client,
        async exchangeAppAuthCode(code) {
          exchanged.push(code)
          return {
            app_auth_token: `aat-${++n}`,
            app_refresh_token: `art-${n}`,
            auth_app_id: MERCHANT_APP,
            user_id: '2088000000000077',
            expires_in: '86400',
            re_expires_in: 30 * 86400,
          }
        },
        async refreshAppAuthToken(refreshToken) {
          refreshed.push(refreshToken)
          return {
            app_auth_token: `aat-${++n}`,
            app_refresh_token: `art-${n}`,
            auth_app_id: MERCHANT_APP,
            expires_in: 365 * 86400,
          }
        },
      }
    },
  }
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: onboarding by app authorisation (merchants module)`, () => {
    let db: TestDb
    const clock = fixedClock('2026-12-07T00:00:00.000Z')
    const alipay = isvFake()
    const keys = generateRsaKeyPair()
    const alipayKeys = generateRsaKeyPair()
    let deps: ReturnType<typeof testDeps>
    let merchantId = ''
    let state = ''

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, {
        clock,
        alipay,
        config: testConfig({
          KAGUAN_ISV_APP_ID: ISV,
          KAGUAN_ISV_PRIVATE_KEY: keys.privateKeyPem,
          KAGUAN_ISV_ALIPAY_PUBLIC_KEY: alipayKeys.publicKeyBase64,
          KAGUAN_ISV_GATEWAY: 'http://127.0.0.1:9/gateway.do',
          KAGUAN_ISV_PUBLIC_URL: 'https://cards.example.com/',
        }),
      })
      await ensureDefaultMerchant(deps)
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('creates a pending merchant whose link carries a state; its calls wait', async () => {
      const { merchant, appAuth } = await onboardMerchant(deps, { name: ' 甲咖啡 ' }, actor)
      merchantId = merchant.id
      expect(merchant).toMatchObject({ name: '甲咖啡', publicBaseUrl: 'https://cards.example.com' })
      expect(appAuth.status).toBe('pending')
      const link = new URL(appAuth.link!)
      expect(link.origin + link.pathname).toBe('http://127.0.0.1:9/oauth2/appToAppAuth.htm')
      expect(link.searchParams.get('redirect_uri')).toBe(
        'https://cards.example.com/alipay/app-auth/callback',
      )
      state = link.searchParams.get('state')!
      await expect(alipayContext(deps, merchantId)).rejects.toMatchObject({
        code: 'APP_AUTH_PENDING',
        retryable: true,
      })
    })

    it('refuses an unknown state or another app, and redeems nothing then', async () => {
      await expect(
        completeAppAuth(deps, { appId: ISV, appAuthCode: 'c1', state: 'forged' }),
      ).rejects.toMatchObject({ code: 'APP_AUTH_STATE_INVALID' })
      await expect(
        completeAppAuth(deps, { appId: '2021000000000000', appAuthCode: 'c1', state }),
      ).rejects.toMatchObject({ code: 'APP_AUTH_APP_MISMATCH' })
      expect(alipay.exchanged).toEqual([])
    })

    it('redeems the code once; calls then go out as the ISV app with the merchant token', async () => {
      const done = await completeAppAuth(deps, { appId: ISV, appAuthCode: 'code-1', state })
      expect(done).toEqual({ merchantId, merchantName: '甲咖啡' })
      const view = await getAppAuth(deps, merchantId)
      expect(view).toMatchObject({
        status: 'authorised',
        link: null,
        authAppId: MERCHANT_APP,
        tokenExpiresAt: '2026-12-08T00:00:00.000Z',
        refreshExpiresAt: '2027-01-06T00:00:00.000Z',
      })
      const ctx = await alipayContext(deps, merchantId)
      expect(ctx).toMatchObject({ appId: MERCHANT_APP, appAuthToken: 'aat-1' })
      expect(ctx.client.appId).toBe(ISV)
      expect(await usesAlipayApp(deps, merchantId, MERCHANT_APP)).toBe(true)
      expect(await usesAlipayApp(deps, merchantId, '2021000000000001')).toBe(false)
      await expect(
        completeAppAuth(deps, { appId: ISV, appAuthCode: 'code-2', state }),
      ).rejects.toMatchObject({ code: 'APP_AUTH_STATE_INVALID' })
      // Messages for the merchant verify with the ISV app's Alipay key.
      expect(await notifiedApp(deps, { merchantId, appId: MERCHANT_APP })).toMatchObject({
        merchantId,
      })
      expect(await notifiedApp(deps, { merchantId, appId: '2021000000000001' })).toBeUndefined()
    })

    it('the sweep refreshes a token expiring within the window, once', async () => {
      expect(await refreshDueAppAuths(deps)).toBe(1)
      expect(alipay.refreshed).toEqual(['art-1'])
      expect((await alipayContext(deps, merchantId)).appAuthToken).toBe('aat-2')
      expect(await refreshDueAppAuths(deps)).toBe(0)
      const view = await getAppAuth(deps, merchantId)
      expect(view.tokenExpiresAt).toBe('2027-12-07T00:00:00.000Z')
      expect(view.refreshedAt).toBe('2026-12-07T00:00:00.000Z')
    })

    it('the cancellation message revokes the merchant; a repeat changes nothing', async () => {
      const message = {
        notifyId: 'n-1',
        appId: ISV,
        bizContent: { detail: { auth_app_id: MERCHANT_APP, app_id: ISV } },
      }
      expect(await handleAppAuthCancelled(deps, message)).toEqual([merchantId])
      expect(await handleAppAuthCancelled(deps, message)).toEqual([])
      await expect(alipayContext(deps, merchantId)).rejects.toMatchObject({
        code: 'APP_AUTH_REVOKED',
      })
      expect(await getAppAuth(deps, merchantId)).toMatchObject({
        status: 'revoked',
        revokedAt: '2026-12-07T00:00:00.000Z',
      })
      // Another ISV's message about the same app is not ours.
      expect(
        await handleAppAuthCancelled(deps, {
          notifyId: 'n-2',
          bizContent: { detail: { auth_app_id: MERCHANT_APP, app_id: '2021000000000000' } },
        }),
      ).toEqual([])
      const rows = await db.db
        .selectFrom('merchant_app_auths')
        .select(['app_auth_token_enc', 'refresh_token_enc'])
        .execute()
      expect(rows).toEqual([{ app_auth_token_enc: null, refresh_token_enc: null }])
    })
  })
}
