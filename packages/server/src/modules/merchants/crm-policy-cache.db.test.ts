import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { testDeps } from '../../../test/helpers/deps.js'
import type { AppDeps } from '../../deps.js'
import { crmCallPolicy, DEFAULT_MERCHANT_ID, ensureDefaultMerchant, updateCrm } from './index.js'

const publicPem = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).publicKey

for (const dialect of DIALECTS) {
  describe(`${dialect}: the cached CRM call policy`, () => {
    let db: TestDb
    let deps: AppDeps
    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db)
      await ensureDefaultMerchant(deps)
    })
    afterAll(async () => {
      await db.destroy()
    })

    const save = (publicKey: string, strictReplay: boolean) =>
      updateCrm(
        deps,
        DEFAULT_MERCHANT_ID,
        { mode: 'crm', baseUrl: 'http://127.0.0.1:9', token: 't', publicKey, strictReplay },
        { actor: 'admin:test' },
      )

    it('sees a new CRM key and replay rule saved in this process at once', async () => {
      const first = publicPem()
      await save(first, false)
      expect(await crmCallPolicy(deps, DEFAULT_MERCHANT_ID)).toMatchObject({
        replayStrict: false,
      })
      const cached = await crmCallPolicy(deps, DEFAULT_MERCHANT_ID)
      expect(cached.acceptedKeys[0]?.publicKey.replace(/\s/g, '')).toContain(
        first
          .replace(/-----[^-]+-----/g, '')
          .replace(/\s/g, '')
          .slice(0, 40),
      )

      const second = publicPem()
      await save(second, true)
      const now = await crmCallPolicy(deps, DEFAULT_MERCHANT_ID)
      expect(now.replayStrict).toBe(true)
      expect(now.acceptedKeys[0]?.publicKey).not.toBe(cached.acceptedKeys[0]?.publicKey)
    })

    it('keeps the policy for a few seconds against a change made behind its back (another process)', async () => {
      const before = await crmCallPolicy(deps, DEFAULT_MERCHANT_ID)
      // Another process's write: straight to the database, no invalidation here.
      await db.db
        .updateTable('merchants')
        .set({ crm_replay_strict: before.replayStrict ? 0 : 1 })
        .where('id', '=', DEFAULT_MERCHANT_ID)
        .execute()
      expect((await crmCallPolicy(deps, DEFAULT_MERCHANT_ID)).replayStrict).toBe(
        before.replayStrict,
      )
    })
  })
}
