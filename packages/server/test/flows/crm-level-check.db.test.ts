import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/deps.js'
import { checkCrmLevels, probeUserOf } from '../../src/modules/crm/index.js'
import { DEFAULT_MERCHANT_ID } from '../../src/modules/merchants/index.js'
import { AppError, ErrorKind } from '../../src/shared/errors.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'
import { draftTemplate, setUpFakeMerchant } from '../helpers/fake-merchant.js'
import { fakeAlipay, fakeCrm, type FakeCrm } from '../helpers/fakes.js'

/**
 * Before publishing, the console asks whether the CRM's level for a new member is one the template
 * defines (issue 11): a level it does not define fails every claim with CRM_LEVEL_UNKNOWN.
 */
for (const dialect of DIALECTS) {
  describe(`${dialect}: the CRM's level codes against a template`, () => {
    let db: TestDb
    let crm: FakeCrm
    let deps: AppDeps
    let templateId = ''
    let defined: string[] = []

    beforeAll(async () => {
      db = await createTestDb(dialect)
      crm = fakeCrm()
      deps = testDeps(db, { alipay: fakeAlipay(), crm })
      await setUpFakeMerchant(deps, { crm: true })
      const template = await draftTemplate(deps)
      templateId = template.id
      defined = template.spec.levels.map((l) => l.code)
    })
    afterAll(async () => {
      await db.destroy()
    })

    const probe = () => probeUserOf(DEFAULT_MERCHANT_ID)

    it('passes a level the template defines, asking about the same test member every time', async () => {
      expect(defined.length).toBeGreaterThan(0)
      crm.members.set(probe(), { bizCardNo: 'CRM-PROBE', point: 0, level: defined[0]! })
      const first = await checkCrmLevels(deps, DEFAULT_MERCHANT_ID, templateId)
      const again = await checkCrmLevels(deps, DEFAULT_MERCHANT_ID, templateId)
      expect(first).toEqual({ checked: true, ok: true, level: defined[0], definedLevels: defined })
      expect(again).toEqual(first)
      expect(new Set(crm.opened.map((o) => o.alipayUserId))).toEqual(new Set([probe()]))
      expect(probe()).toMatch(/^2088\d{12}$/)
    })

    it('flags a level name the template does not define', async () => {
      crm.members.set(probe(), { bizCardNo: 'CRM-PROBE', point: 0, level: '普通会员' })
      expect(await checkCrmLevels(deps, DEFAULT_MERCHANT_ID, templateId)).toMatchObject({
        checked: true,
        ok: false,
        level: '普通会员',
        definedLevels: defined,
      })
    })

    it('reports a CRM it cannot reach instead of failing', async () => {
      crm.down = new AppError(ErrorKind.Unavailable, 'CRM_UNREACHABLE', 'cannot reach the CRM')
      try {
        expect(await checkCrmLevels(deps, DEFAULT_MERCHANT_ID, templateId)).toMatchObject({
          checked: false,
          problem: expect.stringContaining('CRM_UNREACHABLE'),
        })
      } finally {
        crm.down = undefined
      }
    })
  })
}
