import type { AlipayClient } from '@kaguan/alipay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReconcileJobView } from '@kaguan/contracts'
import type { AppDeps } from '../../src/deps.js'
import { claimCard, getCard } from '../../src/modules/cards/index.js'
import { DEFAULT_MERCHANT_ID } from '../../src/modules/merchants/index.js'
import type { AlipayPort } from '../../src/ports/alipay.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'
import { FAKE_APP_ID, publishedTemplate, setUpFakeMerchant } from '../helpers/fake-merchant.js'
import { fakeAlipay, fakeCrm, type FakeAlipay } from '../helpers/fakes.js'
import { startManagement, type ManagementApp } from '../helpers/management.js'

const M = DEFAULT_MERCHANT_ID
const CARDS = 5
const url = `/api/merchants/${M}/reconcile`

/**
 * Reconcile as a job over HTTP: the start answers 202 at once, polls show checked/total counting
 * up, a second start while it runs answers the same job, and the finished job carries the report.
 * Alipay's card.query waits on a gate the test opens one card at a time, so progress is observable.
 */
for (const dialect of DIALECTS) {
  describe(`${dialect}: reconcile as a job with progress`, () => {
    let db: TestDb
    let alipay: FakeAlipay
    let deps: AppDeps
    let m: ManagementApp
    const cardNos: { cardId: string; alipayCardNo: string }[] = []
    // While gated, each queryCard waits for one release; `waiting` hears when one arrives.
    let releases: (() => void)[] = []
    let gated = false
    const waiting: (() => void)[] = []

    beforeAll(async () => {
      db = await createTestDb(dialect)
      alipay = fakeAlipay()
      const port: AlipayPort = {
        forMerchant(app) {
          const client = alipay.forMerchant(app)
          const queryCard: AlipayClient['queryCard'] = async (biz, options) => {
            if (gated) {
              await new Promise<void>((resolve) => {
                releases.push(resolve)
                waiting.splice(0).forEach((w) => w())
              })
            }
            return client.queryCard(biz, options)
          }
          return { ...client, queryCard }
        },
      }
      deps = testDeps(db, { alipay: port, crm: fakeCrm() })
      await setUpFakeMerchant(deps)
      const template = await publishedTemplate(deps)
      for (let i = 0; i < CARDS; i++) {
        const outcome = await claimCard(deps, {
          appId: FAKE_APP_ID,
          authCode: `code-2088${String(i + 1).padStart(12, '0')}`,
          templateId: template.alipayTemplateId!,
          requestId: `req-${i}`,
        })
        if (outcome.status !== 'done') {
          throw new Error(`claim ${i} did not finish: ${JSON.stringify(outcome)}`)
        }
        cardNos.push({ cardId: outcome.cardId, alipayCardNo: outcome.alipayCardNo })
      }
      m = await startManagement(deps)
    })
    afterAll(async () => {
      await m.close()
      await db.destroy()
    })

    /** Resolves once a queryCard call is waiting at the gate. */
    async function callWaiting(): Promise<void> {
      if (releases.length) {
        return
      }
      await new Promise<void>((resolve) => waiting.push(resolve))
    }
    async function poll(jobId: string): Promise<ReconcileJobView> {
      const res = await m.call('GET', `${url}/${jobId}`, 'admin')
      expect(res.statusCode).toBe(200)
      return res.json() as ReconcileJobView
    }

    it('starts at once, counts checked of total while it runs, then reports drift found and repaired', async () => {
      alipay.cards.get(cardNos[0]!.alipayCardNo)!.inWallet = false
      alipay.cards.get(cardNos[1]!.alipayCardNo)!.card.point = '999'
      gated = true

      const started = await m.call('POST', url, 'admin', {})
      expect(started.statusCode).toBe(202)
      const job = started.json() as ReconcileJobView
      expect(job).toMatchObject({ status: 'running', merchantId: M, total: CARDS, report: null })
      expect(started.headers.location).toBe(`${url}/${job.jobId}`)

      // A second start while it runs answers the same job.
      const again = await m.call('POST', url, 'admin', {})
      expect(again.statusCode).toBe(202)
      expect((again.json() as ReconcileJobView).jobId).toBe(job.jobId)

      const seen: number[] = []
      for (let i = 0; i < CARDS; i++) {
        await callWaiting()
        const view = await poll(job.jobId)
        expect(view).toMatchObject({ status: 'running', checked: i, total: CARDS })
        seen.push(view.checked)
        releases.shift()!()
      }
      expect(seen).toEqual([0, 1, 2, 3, 4])

      let done = await poll(job.jobId)
      for (let i = 0; done.status === 'running' && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 20))
        done = await poll(job.jobId)
      }
      expect(done).toMatchObject({ status: 'done', checked: CARDS, total: CARDS, error: null })
      expect(done.finishedAt).not.toBeNull()
      expect(done.report!.checked).toBe(CARDS)
      expect(done.report!.deleted).toEqual([cardNos[0]!.cardId])
      expect(done.report!.repushed).toEqual([cardNos[1]!.cardId])
      expect(done.report!.failed).toEqual([])
      expect((await getCard(db, cardNos[0]!.cardId)).status).toBe('deleted')
    })

    it('starts a new job once the last is done; limit caps the total', async () => {
      gated = false
      releases = []
      const first = await m.call('POST', url, 'admin', { limit: 2 })
      expect(first.statusCode).toBe(202)
      const job = first.json() as ReconcileJobView
      expect(job.total).toBe(2)
      let view = await poll(job.jobId)
      for (let i = 0; view.status === 'running' && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 20))
        view = await poll(job.jobId)
      }
      expect(view).toMatchObject({ status: 'done', checked: 2, total: 2 })
      expect(view.report).toMatchObject({ checked: 2, deleted: [], failed: [] })
    })

    it('refuses a viewer before looking at the body, and answers 404 for an unknown job', async () => {
      const viewer = await m.call('POST', url, 'viewer', { limit: 'not a number' })
      expect(viewer.statusCode).toBe(403)
      expect((await m.call('GET', `${url}/rcj_unknown`, 'viewer')).statusCode).toBe(403)
      const bad = await m.call('POST', url, 'admin', { limit: 0 })
      expect(bad.statusCode).toBe(400)
      const unknown = await m.call('GET', `${url}/rcj_unknown`, 'admin')
      expect(unknown.statusCode).toBe(404)
      expect(unknown.json()).toMatchObject({ errcode: 'RECONCILE_JOB_NOT_FOUND' })
      expect(
        (await m.call('POST', '/api/merchants/mch_nope/reconcile', 'admin', {})).statusCode,
      ).toBe(404)
    })
  })
}
