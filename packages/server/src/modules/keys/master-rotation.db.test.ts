import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { testConfig, testDeps } from '../../../test/helpers/deps.js'
import { generateRsaKeyPair } from '../../shared/rsa-keys.js'
import { generateMasterKey } from '../../shared/field-crypto.js'
import { activateMember, getMember, pageMembers, reserveMember } from '../members/index.js'
import {
  alipayContext,
  crmConnection,
  ensureDefaultMerchant,
  issueCrmToken,
  stageAppKey,
  updateAlipayApp,
  updateCrm,
} from '../merchants/index.js'
import { masterKeyStatus, rotateMasterKey } from './index.js'

const actor = { actor: 'admin' }
const numbering = { prefix: 'K', style: 'sequential' as const }
const MEMBERS = 23

for (const dialect of DIALECTS) {
  describe(`${dialect}: kaguan keys rotate-master (the service)`, () => {
    let db: TestDb
    const oldKey = generateMasterKey()
    const newKey = generateMasterKey()
    const withKeys = (env: Record<string, string>) => testDeps(db, { config: testConfig(env) })
    beforeAll(async () => {
      db = await createTestDb(dialect)
      const before = withKeys({ KAGUAN_MASTER_KEY: oldKey })
      await ensureDefaultMerchant(before)
      await updateAlipayApp(
        before,
        'mch_default',
        {
          appId: '2021000000000001',
          privateKey: generateRsaKeyPair().privateKeyPem,
          alipayPublicKey: generateRsaKeyPair().publicKeyPem,
          gateway: 'http://127.0.0.1:9/gateway.do',
          appAuthToken: 'app-auth-token-0001',
        },
        actor,
      )
      await updateCrm(
        before,
        'mch_default',
        {
          mode: 'crm',
          baseUrl: 'http://127.0.0.1:9',
          token: 'crm-token-old-0001',
          publicKey: generateRsaKeyPair().publicKeyPem,
        },
        actor,
      )
      await stageAppKey(before, 'mch_default', {}, actor)
      await issueCrmToken(before, 'mch_default', { token: 'crm-token-new-00001' }, actor)
      for (let i = 0; i < MEMBERS; i++) {
        const member = await reserveMember(
          before,
          'mch_default',
          `2088${String(i).padStart(12, '0')}`,
          {
            name: `会员${i}`,
            mobile: `1380000${String(i).padStart(4, '0')}`,
            certNo: `11010119900101${String(i).padStart(3, '0')}x`,
          },
          numbering,
        )
        await activateMember(before, member.id)
      }
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('stops when told, continues where it stopped, and ends with everything readable under the new key alone', async () => {
      const during = withKeys({ KAGUAN_MASTER_KEY: newKey, KAGUAN_MASTER_KEY_PREVIOUS: oldKey })
      const before = await masterKeyStatus(during)
      expect(before.parts).toEqual([
        { part: 'merchants', rows: 1, stale: 1 },
        { part: 'members', rows: MEMBERS, stale: MEMBERS },
        { part: 'app authorisations', rows: 0, stale: 0 },
      ])
      // During the rotation the mobile lookup finds members under either key.
      expect(
        (
          await pageMembers(
            during,
            'mch_default',
            { mobile: '13800000003' },
            { page: 1, pageSize: 10, sort: 'createdAt', order: 'desc' },
          )
        ).total,
      ).toBe(1)

      const controller = new AbortController()
      let batches = 0
      const first = await rotateMasterKey(during, {
        batchSize: 5,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.part === 'members' && ++batches === 2) {
            controller.abort()
          }
        },
      })
      expect(first).toMatchObject({ complete: false, interrupted: true })
      expect((await masterKeyStatus(during)).parts[1]!.stale).toBe(MEMBERS - 10)

      const seen: number[] = []
      const second = await rotateMasterKey(during, {
        batchSize: 5,
        onProgress: (p) => p.part === 'members' && seen.push(p.scanned),
      })
      expect(second.complete).toBe(true)
      // Continued from the saved cursor: the first batch of the second run ends at 15, not 5.
      expect(seen[0]).toBe(15)
      expect(second.parts.find((p) => p.part === 'members')).toMatchObject({
        scanned: MEMBERS,
        rewritten: MEMBERS,
      })

      const after = withKeys({ KAGUAN_MASTER_KEY: newKey })
      expect((await masterKeyStatus(after)).parts.every((p) => p.stale === 0)).toBe(true)
      const page = await pageMembers(
        after,
        'mch_default',
        { mobile: '13800000007' },
        { page: 1, pageSize: 10, sort: 'createdAt', order: 'desc' },
      )
      expect(page.total).toBe(1)
      const all = await db.db
        .selectFrom('members')
        .select(['id', 'mobile_hash'])
        .orderBy('id')
        .execute()
      for (const { id, mobile_hash } of all) {
        const member = (await getMember(after, id))!
        expect(member.profile.name).toMatch(/^会员\d+$/)
        expect(mobile_hash).toBe(after.cipher.lookupHash(member.profile.mobile!, 'members.mobile'))
      }
      const conn = (await crmConnection(after, 'mch_default'))!
      expect(conn.token).toBe('crm-token-new-00001')
      expect(conn.fallbackToken).toBe('crm-token-old-0001')
      expect((await alipayContext(after, 'mch_default')).appAuthToken).toBe('app-auth-token-0001')

      // A second run has nothing left to do and says so.
      const third = await rotateMasterKey(after, { batchSize: 5 })
      expect(third.complete).toBe(true)
    })
  })
}
