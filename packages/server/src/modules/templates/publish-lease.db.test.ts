import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { testDeps } from '../../../test/helpers/deps.js'
import type { AppDeps } from '../../deps.js'
import { systemClock } from '../../shared/clock.js'
import { createIds } from '../../shared/ids.js'
import { ensureDefaultMerchant } from '../merchants/index.js'
import { publishTemplate } from './index.js'

for (const dialect of DIALECTS) {
  describe(`${dialect}: one publish of a template at a time, across processes`, () => {
    let db: TestDb
    const ids = createIds()
    let deps: AppDeps
    const actor = { actor: 'admin:test' }

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db)
      await ensureDefaultMerchant({ db: db.db, clock: systemClock })
    })
    afterAll(async () => {
      await db.destroy()
    })

    async function templateLeasedUntil(until: string | null): Promise<string> {
      const id = ids.next('tpl')
      const now = systemClock.nowIso()
      await db.db
        .insertInto('card_templates')
        .values({
          id,
          merchant_id: 'mch_default',
          spec_json: '{}',
          revision: 1,
          published_json: null,
          published_revision: null,
          alipay_template_id: null,
          form_hash: null,
          published_at: null,
          publish_lease_by: until ? 'another-process' : null,
          publish_lease_until: until,
          created_at: now,
          updated_at: now,
        })
        .execute()
      return id
    }
    const leaseOf = (id: string) =>
      db.db
        .selectFrom('card_templates')
        .select(['publish_lease_by', 'publish_lease_until'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow()

    it('refuses while another holder’s lease runs, before any Alipay call', async () => {
      const id = await templateLeasedUntil(new Date(Date.now() + 60_000).toISOString())
      await expect(publishTemplate(deps, id, actor)).rejects.toMatchObject({
        code: 'TEMPLATE_PUBLISH_RUNNING',
        kind: 'conflict',
        retryable: true,
      })
      expect((await leaseOf(id)).publish_lease_by).toBe('another-process')
    })

    it('takes over a lease whose holder died, and frees it when the publish ends', async () => {
      const id = await templateLeasedUntil(new Date(Date.now() - 1_000).toISOString())
      // The merchant has no Alipay app: the publish itself fails, after taking the lease.
      const error = await publishTemplate(deps, id, actor).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: expect.not.stringMatching('TEMPLATE_PUBLISH_RUNNING') })
      expect(await leaseOf(id)).toEqual({ publish_lease_by: null, publish_lease_until: null })
    })
  })
}
