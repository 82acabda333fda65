import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/deps.js'
import {
  CARD_CHANGE_TOPIC,
  CARD_PUSH_TOPIC,
  claimCard,
  getCard,
  reconcileCards,
} from '../../src/modules/cards/index.js'
import { DEFAULT_MERCHANT_ID } from '../../src/modules/merchants/index.js'
import { listOutbox } from '../../src/modules/outbox/index.js'
import { publishTemplate, updateTemplateDraft } from '../../src/modules/templates/index.js'
import { AppError, ErrorKind } from '../../src/shared/errors.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'
import {
  draftTemplate,
  FAKE_APP_ID,
  publishedTemplate,
  setUpFakeMerchant,
} from '../helpers/fake-merchant.js'
import { fakeAlipay, fakeCrm, type FakeAlipay, type FakeCrm } from '../helpers/fakes.js'

/**
 * kaguan's own logic of the three flows that talk to Alipay (publish, claim, reconcile), on both
 * dialects, with the outside systems replaced by the in-memory ports: fast, and able to make Alipay
 * or the CRM fail exactly where a test needs. The emulator e2e tests prove the wire protocol.
 */
const actor = { actor: 'admin:test' }
const methods = (alipay: FakeAlipay) => alipay.calls.map((c) => c.method)

for (const dialect of DIALECTS) {
  describe(`${dialect}: publish, claim and reconcile against fake ports`, () => {
    let db: TestDb
    let alipay: FakeAlipay
    let crm: FakeCrm
    let deps: AppDeps
    let users = 0
    const callback = (templateId: string, requestId = `req-${++users}`) => ({
      appId: FAKE_APP_ID,
      authCode: `code-2088${String(users).padStart(12, '0')}`,
      templateId,
      requestId,
    })

    beforeAll(async () => {
      db = await createTestDb(dialect)
      alipay = fakeAlipay()
      crm = fakeCrm()
      deps = testDeps(db, { alipay, crm })
      await setUpFakeMerchant(deps)
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('publishes with template.create and the form once, then modifies without resending the form', async () => {
      const draft = await draftTemplate(deps, '首发')
      alipay.calls.length = 0
      const first = await publishTemplate(deps, draft.id, actor)
      expect(methods(alipay)).toEqual(['createCardTemplate', 'setFormTemplate'])
      expect(first.template.alipayTemplateId).toMatch(/^2020/)
      expect(alipay.templates.has(first.template.alipayTemplateId!)).toBe(true)

      const spec = { ...first.template.spec, basic: { ...first.template.spec.basic, name: '改名' } }
      await updateTemplateDraft(deps, draft.id, spec, actor)
      alipay.calls.length = 0
      const second = await publishTemplate(deps, draft.id, actor)
      expect(methods(alipay)).toEqual(['modifyCardTemplate'])
      expect(second.template.alipayTemplateId).toBe(first.template.alipayTemplateId)
      expect(second.template.status).toBe('published')
    })

    it('keeps a draft a draft when Alipay refuses the template, and can publish it again', async () => {
      const draft = await draftTemplate(deps, '被拒')
      alipay.failNext('createCardTemplate', 'INVALID_PARAMETER')
      await expect(publishTemplate(deps, draft.id, actor)).rejects.toMatchObject({
        code: 'ALIPAY_REJECTED',
        details: { subCode: 'INVALID_PARAMETER' },
      })
      // The lease was given back: the next click publishes instead of answering "running".
      const again = await publishTemplate(deps, draft.id, actor)
      expect(again.template.alipayTemplateId).toMatch(/^2020/)
    })

    it('claims a card with the template defaults, once however often Alipay calls back', async () => {
      const template = await publishedTemplate(deps)
      const cb = callback(template.alipayTemplateId!)
      alipay.calls.length = 0
      const first = await claimCard(deps, cb)
      const again = await claimCard(deps, cb)
      expect(first).toMatchObject({ status: 'done', alreadyHeld: false })
      expect(again).toMatchObject({ status: 'done', alreadyHeld: true })
      if (first.status !== 'done' || again.status !== 'done') {
        throw new Error('unreachable')
      }
      expect(again.cardId).toBe(first.cardId)
      expect(methods(alipay).filter((m) => m === 'openCard')).toHaveLength(1)
      const card = await getCard(db, first.cardId)
      expect(card).toMatchObject({ point: 10, level: 'SILVER', status: 'active' })
      // What Alipay was asked to show is what kaguan stored.
      expect(alipay.cards.get(card.alipayCardNo)?.card).toMatchObject({
        point: '10',
        level: 'SILVER',
        external_card_no: card.bizCardNo,
      })
    })

    it('refuses a callback naming an app the merchant does not use, opening nothing', async () => {
      const template = await publishedTemplate(deps)
      alipay.calls.length = 0
      const outcome = await claimCard(deps, {
        ...callback(template.alipayTemplateId!),
        appId: '2021999999999999',
      })
      expect(outcome).toMatchObject({ status: 'failed', code: 'CLAIM_UNKNOWN_APP' })
      expect(methods(alipay)).toEqual([])
    })

    describe('in CRM mode', () => {
      beforeAll(async () => {
        await setUpFakeMerchant(deps, { crm: true })
      })

      it("uses the CRM's member and points, and queues cardChange ADD with the card", async () => {
        const template = await publishedTemplate(deps)
        const cb = callback(template.alipayTemplateId!)
        const userId = cb.authCode.replace(/^code-/, '')
        crm.members.set(userId, { bizCardNo: 'VIP000777', point: 320, level: 'GOLD' })
        const outcome = await claimCard(deps, cb)
        expect(outcome).toMatchObject({ status: 'done', bizCardNo: 'VIP000777' })
        expect(crm.opened.at(-1)).toMatchObject({
          alipayUserId: userId,
          templateId: template.alipayTemplateId,
          mobile: '13800138000',
          name: '张三',
        })
        if (outcome.status !== 'done') {
          throw new Error('unreachable')
        }
        expect(await getCard(db, outcome.cardId)).toMatchObject({ point: 320, level: 'GOLD' })
        const adds = await listOutbox(db, {
          merchantId: DEFAULT_MERCHANT_ID,
          topic: CARD_CHANGE_TOPIC,
        })
        expect(adds.some((e) => JSON.stringify(e.payload).includes('VIP000777'))).toBe(true)
      })

      it('fails a claim the CRM cannot answer without opening a card, and succeeds on the retry', async () => {
        const template = await publishedTemplate(deps)
        const cb = callback(template.alipayTemplateId!)
        crm.down = new AppError(ErrorKind.Unavailable, 'CRM_TIMEOUT', 'the CRM did not answer')
        alipay.calls.length = 0
        const failed = await claimCard(deps, cb)
        expect(failed).toMatchObject({ status: 'failed', retryable: true })
        expect(methods(alipay)).not.toContain('openCard')

        crm.down = undefined
        // Alipay sends the user back through a new request id.
        const retried = await claimCard(deps, { ...cb, requestId: `${cb.requestId}-retry` })
        expect(retried).toMatchObject({ status: 'done', alreadyHeld: false })
      })
    })

    it('reconciles: deletes what the user removed, re-pushes what drifted, leaves the rest', async () => {
      const template = await publishedTemplate(deps)
      const claimed = []
      for (let i = 0; i < 3; i++) {
        const outcome = await claimCard(deps, callback(template.alipayTemplateId!))
        if (outcome.status !== 'done') {
          throw new Error(`claim ${i} did not finish: ${JSON.stringify(outcome)}`)
        }
        claimed.push(outcome)
      }
      const [gone, drifted, inStep] = claimed
      alipay.cards.get(gone!.alipayCardNo)!.inWallet = false
      alipay.cards.get(drifted!.alipayCardNo)!.card.point = '999'

      const report = await reconcileCards(deps, DEFAULT_MERCHANT_ID)
      expect(report.deleted).toContain(gone!.cardId)
      expect(report.repushed).toContain(drifted!.cardId)
      expect(report.deleted).not.toContain(inStep!.cardId)
      expect(report.repushed).not.toContain(inStep!.cardId)
      expect(report.failed).toEqual([])
      expect((await getCard(db, gone!.cardId)).status).toBe('deleted')
      const pushes = await listOutbox(db, {
        merchantId: DEFAULT_MERCHANT_ID,
        topic: CARD_PUSH_TOPIC,
      })
      expect(pushes.some((e) => JSON.stringify(e.payload).includes(drifted!.cardId))).toBe(true)
    })

    it('builds one Alipay client per set of keys, and a new one when the keys change', async () => {
      const before = alipay.built.length
      await publishedTemplate(deps)
      const sameKeys = alipay.built.slice(before)
      expect(new Set(sameKeys.map((a) => a.privateKey)).size).toBe(1)
      await setUpFakeMerchant(deps)
      await publishedTemplate(deps)
      const keys = new Set(alipay.built.slice(before).map((a) => a.privateKey))
      expect(keys.size).toBe(2)
    })
  })
}
