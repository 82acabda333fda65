import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { testDeps } from '../../../test/helpers/deps.js'
import { ensureDefaultMerchant, getMerchant, updateAlipayApp, updateCrm } from './index.js'

const actor = { actor: 'admin' }

for (const dialect of DIALECTS) {
  describe(`${dialect}: merchant URLs and the address policy`, () => {
    let db: TestDb
    let deps: ReturnType<typeof testDeps>
    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db)
      await ensureDefaultMerchant(deps)
    })
    afterAll(async () => {
      await db.destroy()
    })

    it.each([
      'http://169.254.169.254/',
      'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/',
      'http://0.0.0.0:8082',
    ])(
      'refuses CRM base URL %s with ADDRESS_FORBIDDEN naming baseUrl, and stores nothing',
      async (baseUrl) => {
        const error = await updateCrm(deps, 'mch_default', { mode: 'none', baseUrl }, actor).catch(
          (e: unknown) => e,
        )
        expect(error).toMatchObject({ code: 'ADDRESS_FORBIDDEN', kind: 'invalid' })
        expect((error as Error).message).toMatch(/^baseUrl:/)
        expect((await getMerchant(deps, 'mch_default')).crm.baseUrl).toBeNull()
      },
    )

    it('accepts an intranet or loopback CRM', async () => {
      const view = await updateCrm(
        deps,
        'mch_default',
        { mode: 'none', baseUrl: 'http://10.1.2.3:8082' },
        actor,
      )
      expect(view.crm.baseUrl).toBe('http://10.1.2.3:8082')
    })

    it('refuses a link-local Alipay gateway URL naming gateway', async () => {
      const error = await updateAlipayApp(
        deps,
        'mch_default',
        { appId: '2021000000000001', gateway: 'http://[fe80::1]/gateway.do' },
        actor,
      ).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ADDRESS_FORBIDDEN' })
      expect((error as Error).message).toMatch(/^gateway:/)
    })
  })
}
