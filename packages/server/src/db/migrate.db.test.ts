import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDeps } from '../../test/helpers/deps.js'
import { createTestDb, DIALECTS, type TestDb } from '../../test/helpers/db.js'
import { acceptOnce, previousResult, recordResult } from '../modules/inbox/index.js'
import { auditTrail, recordAudit } from '../modules/audit/index.js'
import {
  DEFAULT_MERCHANT_ID,
  ensureDefaultMerchant,
  listMerchants,
} from '../modules/merchants/index.js'
import { fixedClock } from '../shared/clock.js'
import { createIds } from '../shared/ids.js'
import { migrateToLatest, pendingMigrations } from './migrate.js'

for (const dialect of DIALECTS) {
  describe(`${dialect}: schema and foundation modules`, () => {
    let db: TestDb
    const clock = fixedClock('2026-11-21T08:00:00.000Z')
    const ids = createIds(() => clock.now().getTime())

    beforeAll(async () => {
      db = await createTestDb(dialect, { migrate: false })
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('migrates a new database, then finds nothing to do', async () => {
      expect((await pendingMigrations(db.db)).length).toBeGreaterThan(0)
      expect(await migrateToLatest(db.db)).toContain('2026_11_21_0000_foundation')
      expect(await migrateToLatest(db.db)).toEqual([])
      expect(await pendingMigrations(db.db)).toEqual([])
    })

    it('creates exactly one default merchant even when asked concurrently', async () => {
      await Promise.all([
        ensureDefaultMerchant({ db: db.db, clock }),
        ensureDefaultMerchant({ db: db.db, clock }),
        ensureDefaultMerchant({ db: db.db, clock }),
      ])
      const merchants = await listMerchants(testDeps(db, { clock }))
      expect(merchants).toEqual([
        expect.objectContaining({ id: DEFAULT_MERCHANT_ID, isDefault: true }),
      ])
    })

    it('accepts an inbound message id once, and forgets it when the transaction rolls back', async () => {
      const msg = { source: 'alipay.notify', messageId: 'n-1', merchantId: DEFAULT_MERCHANT_ID }
      await expect(
        db.db.transaction().execute(async (trx) => {
          expect(await acceptOnce({ db: trx, clock }, msg)).toBe(true)
          throw new Error('processing failed')
        }),
      ).rejects.toThrow('processing failed')
      expect(await acceptOnce({ db: db.db, clock }, msg)).toBe(true)
      expect(await acceptOnce({ db: db.db, clock }, msg)).toBe(false)
      await recordResult(db, msg.source, msg.messageId, 'success')
      expect(await previousResult(db, msg.source, msg.messageId)).toBe('success')
    })

    it('writes audit entries with secrets elided and personal data masked', async () => {
      await recordAudit(
        { db: db.db, clock, ids },
        {
          actor: 'admin:adm_1',
          action: 'merchant.alipay.update',
          target: { type: 'merchant', id: DEFAULT_MERCHANT_ID },
          before: { appId: '2021000000000001', appPrivateKey: null },
          after: {
            appId: '2021000000000002',
            appPrivateKey: 'MIIEv…secret',
            crm: { token: 't0k3n', mobile: '13800138000' },
          },
        },
      )
      const [entry] = await auditTrail(db, { type: 'merchant', id: DEFAULT_MERCHANT_ID })
      expect(entry?.after).toEqual({
        appId: '2021000000000002',
        appPrivateKey: '<elided>',
        crm: { token: '<elided>', mobile: '138****8000' },
      })
      expect(entry?.before).toEqual({ appId: '2021000000000001', appPrivateKey: null })
      expect(JSON.stringify(entry)).not.toContain('secret')
    })
  })
}
