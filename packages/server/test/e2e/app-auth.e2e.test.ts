import { readFileSync } from 'node:fs'
import { createCoreClient, generateKeyPair } from '@kaguan/crm-sdk'
import { startSampleCrm } from '@kaguan/sample-crm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authoriseAsOwner, ISV_APP_ID, startIsvStack } from '../helpers/isv.js'
import {
  adminClient,
  cardSpec,
  emulatorCards,
  emulatorJson,
  eventually,
  type AdminClient,
  type Stack,
} from '../helpers/kaguan.js'

/**
 * Issue 14: an ISV runs kaguan with ONE Alipay app and onboards merchants by app authorisation,
 * through the emulator's authorisation page as a browser would: link → confirm form → redirect to
 * kaguan's callback. Each merchant then publishes its own template from the ISV app (with its
 * app_auth_token), users claim, cards sync; a refresh; a revocation stops one merchant only.
 */

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url)).toString('base64')

function ok<T extends { status: number; text: string }>(r: T): T {
  if (r.status >= 300) {
    throw new Error(`${r.status} ${r.text}`)
  }
  return r
}

async function publishFor(admin: AdminClient, merchantId: string, name: string) {
  const logo = ok(
    await admin.request('POST', `/api/merchants/${merchantId}/images`, {
      name: 'logo',
      type: 'png',
      contentBase64: fixture('logo.png'),
    }),
  )
  const bg = ok(
    await admin.request('POST', `/api/merchants/${merchantId}/images`, {
      name: 'bg',
      type: 'png',
      contentBase64: fixture('background.png'),
    }),
  )
  const spec = cardSpec({ logoId: logo.body.id, backgroundId: bg.body.id }, { name })
  const created = ok(
    await admin.request('POST', `/api/merchants/${merchantId}/templates`, { spec }),
  )
  const published = ok(await admin.request('POST', `/api/templates/${created.body.id}/publish`))
  const link = ok(
    await admin.request('POST', `/api/templates/${created.body.id}/claim-links`, {
      outString: 'isv',
    }),
  )
  return {
    templateId: created.body.id as string,
    alipayTemplateId: published.body.template.alipayTemplateId as string,
    claimUrl: link.body.url as string,
  }
}

async function newUser(stack: Stack, name: string): Promise<string> {
  return (
    await emulatorJson<{ userId: string }>(stack.emulator, 'POST', '/__emulator/users', {
      name,
      mobile: '13800138000',
      gender: '男',
    })
  ).userId
}

async function claim(stack: Stack, userId: string, claimUrl: string) {
  return emulatorJson<{ status: number; body: string }>(
    stack.emulator,
    'POST',
    '/__emulator/claim',
    {
      userId,
      applyCardUrl: claimUrl,
      form: {
        OPEN_FORM_FIELD_MOBILE: '13800138000',
        OPEN_FORM_FIELD_NAME: '张三',
        OPEN_FORM_FIELD_GENDER: '男',
      },
    },
  )
}

describe('onboarding merchants by third-party app authorisation (one ISV app)', () => {
  let stack: Stack
  let admin: AdminClient
  let crm: Awaited<ReturnType<typeof startSampleCrm>>
  const crmKeys = generateKeyPair()
  const a = { id: '', authAppId: '', card: { templateId: '', alipayTemplateId: '', claimUrl: '' } }
  const b = { id: '', authAppId: '', card: { templateId: '', alipayTemplateId: '', claimUrl: '' } }

  beforeAll(async () => {
    stack = await startIsvStack()
    admin = await adminClient(stack, 'admin')
    crm = await startSampleCrm({
      port: 0,
      token: 'crm-token-for-isv',
      privateKey: crmKeys.privateKey,
      kaguanCoreUrl: stack.kaguan.urls.core!,
    })
  })
  afterAll(async () => {
    await crm?.close()
    await stack?.close()
  })

  it('creates a pending merchant with an authorisation link; calls for it wait for the owner', async () => {
    const res = ok(await admin.request('POST', '/api/app-auths', { name: '甲咖啡' }))
    expect(res.status).toBe(201)
    expect(res.body.appAuth).toMatchObject({ status: 'pending', isvAppId: ISV_APP_ID })
    const link = new URL(res.body.appAuth.link)
    expect(link.origin).toBe(stack.emulator.url)
    expect(link.pathname).toBe('/oauth2/appToAppAuth.htm')
    expect(link.searchParams.get('app_id')).toBe(ISV_APP_ID)
    expect(link.searchParams.get('redirect_uri')).toBe(
      `${stack.kaguan.urls.mini}/alipay/app-auth/callback`,
    )
    expect(link.searchParams.get('state')).toMatch(/^[\w-]{20,}$/)
    a.id = res.body.merchant.id
    const upload = await admin.request('POST', `/api/merchants/${a.id}/images`, {
      name: 'logo',
      type: 'png',
      contentBase64: fixture('logo.png'),
    })
    expect(upload.status).toBe(409)
    expect(upload.body.errcode ?? upload.body.code).toBe('APP_AUTH_PENDING')
  })

  it('the owner authorises in Alipay; kaguan redeems the code and records the merchant app', async () => {
    const view = ok(await admin.request('GET', `/api/merchants/${a.id}/app-auth`))
    const done = await authoriseAsOwner(view.body.link)
    expect(done.status, done.html).toBe(200)
    expect(done.html).toContain('授权成功')
    expect(done.html).toContain('甲咖啡')
    const after = ok(await admin.request('GET', `/api/merchants/${a.id}/app-auth`)).body
    expect(after).toMatchObject({ status: 'authorised', link: null })
    expect(after.authAppId).toMatch(/^2021\d{12}$/)
    expect(after.authUserId).toMatch(/^2088\d{12}$/)
    expect(after.tokenExpiresAt).toBeTruthy()
    a.authAppId = after.authAppId
    // The link is single-use: replaying the callback's state changes nothing.
    const again = await authoriseAsOwner(view.body.link)
    expect(again.status).toBe(400)
    expect(again.html).toContain('APP_AUTH_STATE_INVALID')
    // Tokens never reach the logs.
    const grants = await emulatorJson<{ grants: { merchantAppId: string }[] }>(
      stack.emulator,
      'GET',
      '/__emulator/app-auths',
    )
    expect(grants.grants.map((g) => g.merchantAppId)).toContain(a.authAppId)
    expect(stack.logs()).not.toMatch(/app_auth_token=|"app_auth_token":"2/)
  })

  it('onboards a second merchant (CRM mode) through the same ISV app', async () => {
    const res = ok(await admin.request('POST', '/api/app-auths', { name: '乙面包' }))
    b.id = res.body.merchant.id
    const done = await authoriseAsOwner(res.body.appAuth.link)
    expect(done.status, done.html).toBe(200)
    const after = ok(await admin.request('GET', `/api/merchants/${b.id}/app-auth`)).body
    expect(after.status).toBe('authorised')
    expect(after.authAppId).not.toBe(a.authAppId)
    b.authAppId = after.authAppId
    ok(
      await admin.request('PUT', `/api/merchants/${b.id}/crm`, {
        mode: 'crm',
        baseUrl: crm.url,
        token: 'crm-token-for-isv',
        publicKey: crmKeys.publicKey,
      }),
    )
    const list = ok(await admin.request('GET', '/api/app-auths')).body
    expect(list.isvAppId).toBe(ISV_APP_ID)
    expect(list.items.map((i: { merchantId: string }) => i.merchantId)).toEqual([a.id, b.id])
  })

  it('each merchant publishes its own template from the ISV app; cards land on the right merchant app', async () => {
    a.card = await publishFor(admin, a.id, '甲咖啡会员卡')
    b.card = await publishFor(admin, b.id, '乙面包会员卡')
    // Every call went out as the ISV app, acting for the merchant with its app_auth_token.
    const calls = await emulatorJson<
      { appId: string; method: string; params: Record<string, string> }[]
    >(stack.emulator, 'GET', '/__emulator/calls?method=alipay.marketing.card.template.create')
    expect(calls.length).toBeGreaterThanOrEqual(2)
    for (const call of calls) {
      expect(call.appId).toBe(ISV_APP_ID)
      expect(call.params.app_auth_token).toBeTruthy()
    }

    const userA = await newUser(stack, '张三')
    const resA = await claim(stack, userA, a.card.claimUrl)
    expect(resA.status, resA.body).toBe(200)
    const userB = await newUser(stack, '李四')
    const resB = await claim(stack, userB, b.card.claimUrl)
    expect(resB.status, resB.body).toBe(200)

    const [cardA] = await emulatorCards(stack, { userId: userA })
    const [cardB] = await emulatorCards(stack, { userId: userB })
    expect(cardA).toMatchObject({ templateId: a.card.alipayTemplateId, appId: a.authAppId })
    expect(cardB).toMatchObject({ templateId: b.card.alipayTemplateId, appId: b.authAppId })
    // No-CRM merchant A numbers its own cards; merchant B's CRM was asked and told ADD.
    expect(cardA!.externalCardNo).toMatch(/^KG\d{16}$/)
    await eventually(
      async () => crm.requests.some((r) => r.path === '/card/cardChange'),
      'the CRM told ADD',
    )
    expect(crm.requests.some((r) => r.path === '/card/openCardInfo')).toBe(true)

    // Members are the merchant's own: A does not see B's member and vice versa.
    const membersA = ok(await admin.request('GET', `/api/merchants/${a.id}/members`)).body.items
    const membersB = ok(await admin.request('GET', `/api/merchants/${b.id}/members`)).body.items
    expect(membersA.map((m: { alipayUserId: string }) => m.alipayUserId)).toEqual([userA])
    expect(membersB.map((m: { alipayUserId: string }) => m.alipayUserId)).toEqual([userB])

    // The CRM changes B's points: the worker pushes card.update for B's card with B's token.
    const core = createCoreClient({
      baseUrl: stack.kaguan.urls.core!,
      privateKey: crmKeys.privateKey,
    })
    const result = await core.updateCard({
      templateId: b.card.alipayTemplateId,
      bizCardNo: cardB!.externalCardNo,
      point: '77',
      changeReason: 'isv test',
    })
    expect(result.status).toBe('OK')
    await eventually(async () => {
      const [now] = await emulatorCards(stack, { userId: userB })
      return Number(now?.point) === 77
    }, "B's card updated")
  })

  it('refreshes a token on demand: Alipay retires the old one, calls go on with the new one', async () => {
    const before = ok(await admin.request('GET', `/api/merchants/${a.id}/app-auth`)).body
    const refreshed = ok(
      await admin.request('POST', `/api/merchants/${a.id}/app-auth/refresh`),
    ).body
    expect(refreshed.status).toBe('authorised')
    expect(refreshed.refreshedAt).toBeTruthy()
    expect(refreshed.tokenExpiresAt >= before.tokenExpiresAt).toBe(true)
    // Calls keep working with the new token.
    const again = await admin.request('POST', `/api/templates/${a.card.templateId}/claim-links`, {
      outString: 'after-refresh',
    })
    expect(again.status, again.text).toBe(201)
    const grants = await emulatorJson<{ grants: { merchantAppId: string; status: string }[] }>(
      stack.emulator,
      'GET',
      '/__emulator/app-auths',
    )
    expect(
      grants.grants.filter((g) => g.merchantAppId === a.authAppId).map((g) => g.status),
    ).toEqual(['refreshed', 'valid'])
    const audit = ok(
      await admin.request('GET', `/api/audit?merchantId=${a.id}&action=merchant.app_auth`),
    )
    expect(JSON.stringify(audit.body)).toContain('merchant.app_auth.refresh')
  })

  it('the worker refreshes a token that expires within the refresh window on its own', async () => {
    // Merchant C authorises while Alipay grants short-lived tokens (two days, inside the 7-day window).
    await emulatorJson(stack.emulator, 'POST', '/__emulator/behaviour', {
      appAuthTokenTtlSeconds: 2 * 86_400,
    })
    const res = ok(await admin.request('POST', '/api/app-auths', { name: '丙书店' }))
    const done = await authoriseAsOwner(res.body.appAuth.link)
    expect(done.status, done.html).toBe(200)
    await emulatorJson(stack.emulator, 'POST', '/__emulator/behaviour', {
      appAuthTokenTtlSeconds: 365 * 86_400,
    })
    const refreshed = await eventually(async () => {
      const v = ok(
        await admin.request('GET', `/api/merchants/${res.body.merchant.id}/app-auth`),
      ).body
      return v.refreshedAt ? v : undefined
    }, 'the worker refreshed the token')
    expect(Date.parse(refreshed.tokenExpiresAt)).toBeGreaterThan(Date.now() + 300 * 86_400_000)
  })

  it('a revocation stops calls for that merchant only, the console shows it, a new link re-authorises', async () => {
    const cancelled = await emulatorJson<{ cancelled: number; notificationId: string | null }>(
      stack.emulator,
      'POST',
      '/__emulator/app-auths/cancel',
      { merchantAppId: a.authAppId },
    )
    expect(cancelled.cancelled).toBe(1)
    expect(cancelled.notificationId).toBeTruthy()
    const revoked = await eventually(async () => {
      const v = ok(await admin.request('GET', `/api/merchants/${a.id}/app-auth`)).body
      return v.status === 'revoked' ? v : undefined
    }, 'merchant A revoked')
    expect(revoked.revokedAt).toBeTruthy()
    const notes = await emulatorJson<{ id: string; status: string; lastBody: string }[]>(
      stack.emulator,
      'GET',
      '/__emulator/notifications',
    )
    expect(notes.find((n) => n.id === cancelled.notificationId)).toMatchObject({
      status: 'delivered',
    })

    // A's calls stop with a clear errcode, before anything reaches Alipay; B's go on.
    const callsBefore = (await emulatorJson<unknown[]>(stack.emulator, 'GET', '/__emulator/calls'))
      .length
    const stopped = await admin.request('POST', `/api/templates/${a.card.templateId}/claim-links`, {
      outString: 'after-revoke',
    })
    expect(stopped.status).toBe(409)
    expect(stopped.body.errcode ?? stopped.body.code).toBe('APP_AUTH_REVOKED')
    expect((await emulatorJson<unknown[]>(stack.emulator, 'GET', '/__emulator/calls')).length).toBe(
      callsBefore,
    )
    const userB2 = await newUser(stack, '王五')
    const resB = await claim(stack, userB2, b.card.claimUrl)
    expect(resB.status, resB.body).toBe(200)

    // Re-authorisation: a new link, the owner agrees again, calls resume.
    const renewed = ok(await admin.request('POST', `/api/merchants/${a.id}/app-auth/link`)).body
    expect(renewed.status).toBe('revoked')
    // The owner authorises the same app of theirs again.
    const done = await authoriseAsOwner(renewed.link, { merchant_app_id: a.authAppId })
    expect(done.status, done.html).toBe(200)
    expect(ok(await admin.request('GET', `/api/merchants/${a.id}/app-auth`)).body).toMatchObject({
      status: 'authorised',
      authAppId: a.authAppId,
    })
    const back = await admin.request('POST', `/api/templates/${a.card.templateId}/claim-links`, {
      outString: 'after-reauth',
    })
    expect(back.status, back.text).toBe(201)
  })
})
