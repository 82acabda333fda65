import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { fixedClock, testDeps } from '../../../test/helpers/deps.js'
import { draftTemplate, setUpFakeMerchant } from '../../../test/helpers/fake-merchant.js'
import { fakeAlipay, type FakeAlipay, type FakeCard } from '../../../test/helpers/fakes.js'
import type { AppDeps } from '../../deps.js'
import { listOutbox } from '../outbox/index.js'
import { updateTemplateDraft } from '../templates/index.js'
import {
  adjustPoints,
  CARD_PUSH_TOPIC,
  expireDuePoints,
  pointsExpiryOutboxHandlers,
  POINTS_REMIND_TOPIC,
  remindExpiringPoints,
  type PointsRemindPayload,
} from './index.js'

const M = 'mch_default'
const TEMPLATE = 'tpl_expiring'

for (const dialect of DIALECTS) {
  describe(`${dialect}: card points expiry (no-CRM mode) and its reminder`, () => {
    let db: TestDb
    let deps: AppDeps
    let alipay: FakeAlipay
    // 2026-12-02 10:00 China time.
    const clock = fixedClock('2026-12-02T02:00:00.000Z')
    /** Moves the clock to a China-time instant. */
    const at = (china: string) =>
      clock.advance(Date.parse(`${china}+08:00`) - clock.now().getTime())
    let n = 0

    async function newCard(): Promise<string> {
      const now = clock.nowIso()
      n++
      const memberId = `mbr_pe${n}`
      const cardId = `card_pe${n}`
      await db.db
        .insertInto('members')
        .values({
          id: memberId,
          merchant_id: M,
          alipay_user_id: `208800000000090${n}`,
          biz_card_no: `KGPE${n}`,
          source: 'kaguan',
          status: 'active',
          name_enc: null,
          mobile_enc: null,
          mobile_hash: null,
          cert_no_enc: null,
          cert_no_hash: null,
          gender: null,
          birthday: null,
          created_at: now,
          updated_at: now,
        })
        .execute()
      await db.db
        .insertInto('cards')
        .values({
          id: cardId,
          merchant_id: M,
          member_id: memberId,
          template_id: TEMPLATE,
          alipay_template_id: 'T_EXP',
          alipay_user_id: `208800000000090${n}`,
          biz_card_no: `KGPE${n}`,
          alipay_card_no: `APE${n}`,
          status: 'active',
          out_string: null,
          point: 0,
          level: null,
          balance: null,
          state_version: 1,
          pushed_version: 1,
          open_date: now,
          valid_date: now,
          deleted_at: null,
          delete_reason: null,
          created_at: now,
          updated_at: now,
        })
        .execute()
      return cardId
    }
    const points = async (cardId: string) =>
      Number(
        (
          await db.db
            .selectFrom('cards')
            .select('point')
            .where('id', '=', cardId)
            .executeTakeFirstOrThrow()
        ).point,
      )
    const change = (cardId: string, delta: number, key: string) =>
      adjustPoints(deps, cardId, { delta, reason: 'test', source: 'till', idempotencyKey: key })
    const expiries = (cardId: string) =>
      db.db
        .selectFrom('point_entries')
        .selectAll()
        .where('card_id', '=', cardId)
        .where('source', '=', 'expiry')
        .execute()
    const reminders = async () =>
      (await listOutbox(db, { topic: POINTS_REMIND_TOPIC }))
        .map((o) => o.payload as PointsRemindPayload)
        .sort((x, y) => x.expiresAt.localeCompare(y.expiresAt))
    let cardId: string

    beforeAll(async () => {
      db = await createTestDb(dialect)
      alipay = fakeAlipay()
      deps = testDeps(db, { clock, alipay })
      await setUpFakeMerchant(deps)
      const spec = {
        basic: { name: '会员卡', validity: { type: 'forever' }, shopIds: [] },
        pointExpiry: { type: 'AFTER_EARNED', days: 10, remindDaysBefore: 3 },
      }
      const now = clock.nowIso()
      await db.db
        .insertInto('card_templates')
        .values({
          id: TEMPLATE,
          merchant_id: M,
          spec_json: JSON.stringify(spec),
          revision: 1,
          published_json: JSON.stringify(spec),
          published_revision: 1,
          alipay_template_id: 'T_EXP',
          form_hash: null,
          published_at: now,
          publish_lease_by: null,
          publish_lease_until: null,
          created_at: now,
          updated_at: now,
        })
        .execute()
      cardId = await newCard()
      // Earned on 12-02: they expire when 12-13 begins (the 10th day after 12-02 ends).
      await change(cardId, 5, 'd1')
      at('2026-12-05T09:00:00')
      await change(cardId, 2, 'd2')
      // Spent oldest first: 3 of the 12-02 points.
      at('2026-12-06T09:00:00')
      await change(cardId, -3, 's1')
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('refuses a points expiry rule whose fields do not fit, naming each field', async () => {
      const draft = await draftTemplate(deps)
      const refusal = async (pointExpiry: unknown) => {
        try {
          await updateTemplateDraft(
            deps,
            draft.id,
            { ...draft.spec, pointExpiry } as typeof draft.spec,
            { actor: 'test' },
          )
        } catch (error) {
          const e = error as { code?: string; details?: { fields?: { field: string }[] } }
          return { code: e.code, fields: e.details?.fields?.map((f) => f.field) }
        }
        throw new Error('expected a refusal')
      }
      expect(await refusal({ type: 'AFTER_EARNED' })).toEqual({
        code: 'TEMPLATE_INVALID',
        fields: ['pointExpiry.days'],
      })
      expect(await refusal({ type: 'AFTER_EARNED', days: 3, remindDaysBefore: 3 })).toEqual({
        code: 'TEMPLATE_INVALID',
        fields: ['pointExpiry.remindDaysBefore'],
      })
      expect((await refusal({ type: 'SOMETIME', days: 3 })).fields).toContain('pointExpiry.type')
    })

    it('reminds once, some days before, of the points still there that will expire', async () => {
      at('2026-12-09T10:00:00')
      expect(await remindExpiringPoints(deps)).toBe(0)
      expect(await expireDuePoints(deps)).toBe(0)

      at('2026-12-10T10:00:00')
      // Two workers at once, then a rerun: one reminder.
      const [a, b] = await Promise.all([remindExpiringPoints(deps), remindExpiringPoints(deps)])
      expect(a + b).toBe(1)
      expect(await remindExpiringPoints(deps)).toBe(0)
      expect(await reminders()).toEqual([
        {
          cardId,
          notifyNo: expect.stringMatching(/^prm_/),
          // 5 earned on 12-02, 3 of them already spent.
          amount: 2,
          expiresAt: '2026-12-12T16:00:00.000Z',
        },
      ])
      expect(await points(cardId)).toBe(4)
    })

    it('delivers the reminder as POINT_REMIND on the card, with the reminder id as notify_no', async () => {
      alipay.cards.set('APE1', {} as FakeCard)
      const entry = (await listOutbox(db, { topic: POINTS_REMIND_TOPIC }))[0]!
      alipay.calls.length = 0
      await pointsExpiryOutboxHandlers(deps)[POINTS_REMIND_TOPIC]!({ ...entry, attempt: 1 })
      const payload = entry.payload as PointsRemindPayload
      expect(alipay.calls).toEqual([
        {
          method: 'notifyCardMessage',
          biz: expect.objectContaining({
            target_card_no: 'APE1',
            target_card_no_type: 'BIZ_CARD',
            notify_type: 'POINT_REMIND',
            notify_no: payload.notifyNo,
            notify_info: JSON.stringify({
              expired_point: '2',
              expired_time: '2026-12-13 00:00:00',
            }),
          }),
        },
      ])
    })

    it('expires the points past their time once, with one ledger entry and the card push', async () => {
      at('2026-12-12T23:59:59')
      expect(await expireDuePoints(deps)).toBe(0)
      const pushesBefore = (await listOutbox(db, { topic: CARD_PUSH_TOPIC })).length
      at('2026-12-13T00:30:00')
      const [a, b] = await Promise.all([expireDuePoints(deps), expireDuePoints(deps)])
      expect(a + b).toBe(2)
      expect(await expireDuePoints(deps)).toBe(0)
      expect(await points(cardId)).toBe(2)
      const entries = await expiries(cardId)
      expect(entries).toHaveLength(1)
      expect(entries[0]).toMatchObject({ delta: -2, source: 'expiry' })
      expect(Number(entries[0]!.point_after)).toBe(2)
      expect(entries[0]!.idempotency_key).toMatch(/^expire:card_pe1:/)
      const pushes = await listOutbox(db, { topic: CARD_PUSH_TOPIC })
      // The push collapses with the ones queued before (one pending per card).
      expect(pushes.length).toBeGreaterThanOrEqual(pushesBefore)
      expect(
        pushes.filter(
          (p) => p.status === 'pending' && (p.payload as { cardId: string }).cardId === cardId,
        ),
      ).toHaveLength(1)
    })

    it('FIFO: the later points get their own reminder and expiry; spent points never expire twice', async () => {
      at('2026-12-13T01:00:00')
      expect(await remindExpiringPoints(deps)).toBe(1)
      expect((await reminders()).at(-1)).toMatchObject({
        cardId,
        amount: 2,
        expiresAt: '2026-12-15T16:00:00.000Z',
      })
      at('2026-12-15T23:00:00')
      expect(await expireDuePoints(deps)).toBe(0)
      at('2026-12-16T00:00:00')
      expect(await expireDuePoints(deps)).toBe(2)
      expect(await points(cardId)).toBe(0)
      expect((await expiries(cardId)).map((e) => Number(e.delta)).sort()).toEqual([-2, -2])
      // Everything earned is spent or expired: nothing more, whenever the worker runs.
      at('2027-01-20T00:00:00')
      expect(await expireDuePoints(deps)).toBe(0)
      expect(await remindExpiringPoints(deps)).toBe(0)
      expect(await reminders()).toHaveLength(2)
    })

    it('in CRM mode the CRM owns points: nothing expires and nobody is reminded', async () => {
      const other = await newCard()
      await change(other, 4, 'crm-d1')
      await db.db.updateTable('merchants').set({ crm_mode: 'crm' }).where('id', '=', M).execute()
      at('2027-01-28T10:00:00')
      expect(await remindExpiringPoints(deps)).toBe(0)
      at('2027-02-05T10:00:00')
      expect(await expireDuePoints(deps)).toBe(0)
      expect(await points(other)).toBe(4)
      expect(await expiries(other)).toEqual([])
      expect(await reminders()).toHaveLength(2)
    })
  })
}
