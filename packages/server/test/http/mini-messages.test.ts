import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRoleApp, type RoleApp } from '../../src/http/app.js'
import { registerMini } from '../../src/http/mini/index.js'
import {
  createMerchant,
  ensureDefaultMerchant,
  updateAlipayApp,
} from '../../src/modules/merchants/index.js'
import { systemClock } from '../../src/shared/clock.js'
import { createTestDb, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'
import { capturingLogger } from '../helpers/logs.js'

const pair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  })

describe('mini role: malformed and ambiguous Alipay messages', () => {
  let db: TestDb
  let app: RoleApp
  const logs = capturingLogger()
  const deps = () => testDeps(db, { log: logs.log })
  const actor = { actor: 'admin:test' }
  const app1 = { appId: '2021000000000777', privateKey: pair().privateKey, gateway: 'sandbox' }
  const alipayKey = pair().publicKey

  beforeAll(async () => {
    db = await createTestDb('sqlite')
    await ensureDefaultMerchant({ db: db.db, clock: systemClock })
    const d = deps()
    app = await buildRoleApp('mini', d, (scope) => registerMini(scope, d))
  })
  afterAll(async () => {
    await app.close()
    await db.destroy()
  })

  const post = (url: string, payload: string, contentType: string) =>
    app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } })
  const form = 'application/x-www-form-urlencoded'

  it.each([
    ['/alipay/notify', 'charset=x-no-such-charset&app_id=1&sign=x', form],
    ['/alipay/gateway', 'charset=x-no-such-charset&msg_method=a&sign=x', form],
    ['/alipay/mdcode/mch_default', 'charset=klingon&BizCardNo=1&sign=%%%', form],
    ['/alipay/notify/mch_default', 'notify_id=1&sign=not-base64!!&sign_type=RSA2', form],
    ['/alipay/notify/mch_default', `${'a=1&'.repeat(5000)}sign=x`, form],
  ])('answers fail, never a 500, to a malformed form at %s', async (url, body, type) => {
    const res = await post(url, body, type)
    expect(res.statusCode).toBeLessThan(500)
    expect(res.body).toBe('fail')
  })

  it.each([
    ['application/json', JSON.stringify({ app_id: '1', notify_type: 'x' })],
    ['application/json', `${'['.repeat(20_000)}${']'.repeat(20_000)}`],
    ['text/plain', 'app_id=1'],
  ])('refuses a %s body where Alipay posts forms, without a 500', async (type, body) => {
    const res = await post('/alipay/notify/mch_default', body, type)
    expect([400, 413, 415]).toContain(res.statusCode)
  })

  it('keeps two merchants off one app unless both are ISV merchants with their own token', async () => {
    const d = deps()
    await updateAlipayApp(d, 'mch_default', { ...app1, alipayPublicKey: alipayKey }, actor)
    const other = await createMerchant(d, { name: '二号店' }, actor)
    await expect(
      updateAlipayApp(d, other.id, { ...app1, alipayPublicKey: alipayKey }, actor),
    ).rejects.toMatchObject({
      code: 'MERCHANT_ALIPAY_INVALID',
      details: { fields: [expect.objectContaining({ field: 'appId' })] },
    })
    // As an ISV app, each merchant with its own app_auth_token, the app may be shared.
    await updateAlipayApp(d, 'mch_default', { ...app1, appAuthToken: 'token-of-default' }, actor)
    await updateAlipayApp(
      d,
      other.id,
      { ...app1, alipayPublicKey: alipayKey, appAuthToken: 'token-of-other' },
      actor,
    )
    // Now the app id alone names no merchant: the bare path refuses, naming the reason in the log.
    const res = await post('/alipay/notify', `app_id=${app1.appId}&notify_type=x&sign=x`, form)
    expect(res.body).toBe('fail')
    expect(logs.text()).toContain('several merchants share')
    // A message naming another merchant's app on a merchant's path is not that merchant's.
    const wrong = await post('/alipay/notify/mch_default', 'app_id=2021999&sign=x', form)
    expect(wrong.body).toBe('fail')
  })
})
