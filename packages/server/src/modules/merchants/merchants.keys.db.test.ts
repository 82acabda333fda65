import { generateKeyPair } from '@kaguan/crm-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { fixedClock, testDeps } from '../../../test/helpers/deps.js'
import { generateRsaKeyPair } from '../../shared/rsa-keys.js'
import { recentAudit } from '../audit/index.js'
import {
  acceptedCrmKeys,
  activateAppKey,
  addCrmKey,
  alipayContext,
  crmConnection,
  discardCrmToken,
  ensureDefaultMerchant,
  issueCrmToken,
  keyCustody,
  retireOldCrmKey,
  retireOldCrmToken,
  stageAppKey,
  updateAlipayApp,
  updateCrm,
} from './index.js'

const actor = { actor: 'admin' }
const M = 'mch_default'

for (const dialect of DIALECTS) {
  describe(`${dialect}: merchant key rotation`, () => {
    let db: TestDb
    const clock = fixedClock('2026-12-07T00:00:00Z')
    let deps: ReturnType<typeof testDeps>
    const crmOld = generateKeyPair()
    const crmNew = generateKeyPair()
    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, { clock })
      await ensureDefaultMerchant(deps)
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('refuses to rotate what is not set, naming the step', async () => {
      await expect(stageAppKey(deps, M, {}, actor)).rejects.toMatchObject({
        code: 'ALIPAY_NOT_CONFIGURED',
      })
      await expect(issueCrmToken(deps, M, {}, actor)).rejects.toMatchObject({
        code: 'KEY_ROTATION_NOTHING_PENDING',
      })
      await expect(activateAppKey(deps, M, actor)).rejects.toMatchObject({
        code: 'KEY_ROTATION_NOTHING_PENDING',
        kind: 'conflict',
      })
    })

    it('accepts two CRM keys during the window, then only the new one', async () => {
      await updateCrm(
        deps,
        M,
        {
          mode: 'crm',
          baseUrl: 'http://127.0.0.1:9',
          token: 'token-old-000000001',
          publicKey: crmOld.publicKey,
        },
        actor,
      )
      await expect(addCrmKey(deps, M, { publicKey: 'nope' }, actor)).rejects.toMatchObject({
        code: 'KEY_ROTATION_INVALID',
      })
      await expect(
        addCrmKey(deps, M, { publicKey: crmOld.publicKey }, actor),
      ).rejects.toMatchObject({ code: 'KEY_ROTATION_INVALID' })
      const view = await addCrmKey(deps, M, { publicKey: crmNew.publicKey, overlapHours: 2 }, actor)
      expect(view.crmKey.old).toMatchObject({
        accepted: true,
        acceptedUntil: '2026-12-07T02:00:00.000Z',
      })
      const keys = await acceptedCrmKeys(deps, M)
      expect(keys).toHaveLength(2)
      expect(keys[1]!.acceptedUntil).toBe('2026-12-07T02:00:00.000Z')
      // A third key while the old one is still accepted would drop it silently.
      await expect(
        addCrmKey(deps, M, { publicKey: generateKeyPair().publicKey }, actor),
      ).rejects.toMatchObject({ code: 'KEY_ROTATION_IN_PROGRESS' })
      clock.advance(2 * 3_600_000)
      expect(await acceptedCrmKeys(deps, M)).toHaveLength(1)
      expect((await keyCustody(deps, M)).crmKey.old?.accepted).toBe(false)
      const retired = await retireOldCrmKey(deps, M, actor)
      expect(retired.crmKey.old).toBeNull()
    })

    it('sends the new CRM token first and the old as fallback until retired; notes when the new is accepted', async () => {
      await expect(issueCrmToken(deps, M, { token: 'short' }, actor)).rejects.toMatchObject({
        code: 'KEY_ROTATION_INVALID',
      })
      const issued = await issueCrmToken(deps, M, {}, actor)
      await expect(issueCrmToken(deps, M, {}, actor)).rejects.toMatchObject({
        code: 'KEY_ROTATION_IN_PROGRESS',
      })
      let conn = (await crmConnection(deps, M))!
      expect(conn).toMatchObject({
        token: issued.issuedToken,
        fallbackToken: 'token-old-000000001',
      })
      conn.onTokenAccepted!('fallback')
      conn.onTokenAccepted!('token')
      await new Promise((r) => setTimeout(r, 100))
      expect((await keyCustody(deps, M)).crmToken.next?.seenAt).toBe('2026-12-07T02:00:00.000Z')
      await discardCrmToken(deps, M, actor)
      conn = (await crmConnection(deps, M))!
      expect(conn.token).toBe('token-old-000000001')
      expect(conn.fallbackToken).toBeUndefined()
      const again = await issueCrmToken(deps, M, { token: 'my-own-new-token-0001' }, actor)
      expect(again.crmToken.next?.seenAt).toBeNull()
      await retireOldCrmToken(deps, M, actor)
      conn = (await crmConnection(deps, M))!
      expect(conn).toMatchObject({ token: 'my-own-new-token-0001' })
      expect(conn.fallbackToken).toBeUndefined()
    })

    it('stages an app key without using it, and activates it', async () => {
      const current = generateRsaKeyPair()
      await updateAlipayApp(
        deps,
        M,
        {
          appId: '2021000000000009',
          privateKey: current.privateKeyPem,
          alipayPublicKey: generateRsaKeyPair().publicKeyPem,
          gateway: 'http://127.0.0.1:9/gateway.do',
        },
        actor,
      )
      await expect(
        stageAppKey(deps, M, { privateKey: current.privateKeyPem }, actor),
      ).rejects.toMatchObject({ code: 'KEY_ROTATION_INVALID' })
      const own = generateRsaKeyPair()
      const staged = await stageAppKey(deps, M, { privateKey: own.privateKeyBase64 }, actor)
      expect(staged.appKey.fingerprint).toBe(current.fingerprint)
      expect(staged.appKey.next).toMatchObject({
        fingerprint: own.fingerprint,
        publicKey: own.publicKeyBase64,
      })
      expect((await alipayContext(deps, M)).appId).toBe('2021000000000009')
      const active = await activateAppKey(deps, M, actor)
      expect(active.appKey).toEqual({ fingerprint: own.fingerprint, next: null })

      const audit = await recentAudit(deps, M, 100)
      const text = JSON.stringify(audit)
      for (const secret of [
        'token-old-000000001',
        'my-own-new-token-0001',
        own.privateKeyBase64,
        current.privateKeyBase64,
      ]) {
        expect(text).not.toContain(secret)
      }
      expect(audit.map((a) => a.action)).toEqual(
        expect.arrayContaining([
          'merchant.keys.crm_key.add',
          'merchant.keys.crm_key.retire_old',
          'merchant.keys.crm_token.issue',
          'merchant.keys.crm_token.discard',
          'merchant.keys.crm_token.retire_old',
          'merchant.keys.app_key.stage',
          'merchant.keys.app_key.activate',
        ]),
      )
    })
  })
}
