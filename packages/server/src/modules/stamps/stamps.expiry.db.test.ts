import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { fixedClock, testDeps } from '../../../test/helpers/deps.js'
import type { AppDeps } from '../../deps.js'
import { ensureDefaultMerchant } from '../merchants/index.js'
import { listOutbox } from '../outbox/index.js'
import { createShop } from '../shops/index.js'
import {
  accountHistory,
  accountOf,
  adjustStamps,
  applyLedger,
  createActivity,
  expireDueStamps,
  publishActivity,
  remindExpiringStamps,
  STAMPS_CARD_TOPIC,
  STAMPS_MIRROR_TOPIC,
  STAMPS_REMIND_TOPIC,
  withCardPush,
  type StampsRemindPayload,
} from './index.js'

const M = 'mch_default'
const actor = { actor: 'test' }
const HOUR = 3_600_000

async function rejection(p: Promise<unknown>) {
  try {
    await p
  } catch (error) {
    return error as { code?: string; details?: { fields?: { field: string }[] } }
  }
  throw new Error('expected a rejection')
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: stamp expiry and its reminder`, () => {
    let db: TestDb
    let deps: AppDeps
    // 2026-12-02 10:00 China time.
    const clock = fixedClock('2026-12-02T02:00:00.000Z')
    /** Moves the clock to a China-time instant. */
    const at = (china: string) =>
      clock.advance(Date.parse(`${china}+08:00`) - clock.now().getTime())
    let shopId: string
    let memberId: string
    let activityId: string
    const spec = (expiry: unknown) => ({
      name: '集点',
      startTime: '2026-12-01T00:00:00+08:00',
      endTime: '2027-01-01T00:00:00+08:00',
      shopIds: [shopId],
      card: { name: '集点卡', description: '满5点换券' },
      rule: {},
      stampsToComplete: 5,
      mirrorToKoubei: false,
      expiry,
    })
    const account = () => accountOf(deps, { merchantId: M, memberId, activityId })
    const deposit = (n: number, key: string) =>
      adjustStamps(
        deps,
        { merchantId: M, memberId, activityId, delta: n, reason: 'earned', idempotencyKey: key },
        actor,
      )
    const reminders = async () =>
      (await listOutbox(db, { topic: STAMPS_REMIND_TOPIC }))
        .map((o) => o.payload as StampsRemindPayload)
        .sort((x, y) => x.expiresAt.localeCompare(y.expiresAt))

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, { clock })
      await ensureDefaultMerchant({ db: db.db, clock })
      shopId = (
        await createShop(deps, M, { name: 'A', address: 'x', latitude: 30, longitude: 120 }, actor)
      ).id
      memberId = deps.ids.next('mbr')
      const now = clock.nowIso()
      await db.db
        .insertInto('members')
        .values({
          id: memberId,
          merchant_id: M,
          alipay_user_id: '2088000000000888',
          biz_card_no: 'KG8',
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
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('refuses an expiry rule whose fields do not fit together, naming each field', async () => {
      const noDays = await rejection(
        createActivity(
          deps,
          M,
          { type: 'POINT_SEND', spec: spec({ type: 'AFTER_EARNED' }) },
          actor,
        ),
      )
      expect(noDays.code).toBe('STAMPS_INVALID')
      expect(noDays.details!.fields!.map((f) => f.field)).toEqual(['spec.expiry.days'])
      const late = await rejection(
        createActivity(
          deps,
          M,
          {
            type: 'POINT_SEND',
            spec: spec({ type: 'AFTER_EARNED', days: 3, remindDaysBefore: 3, graceDays: 1 }),
          },
          actor,
        ),
      )
      expect(late.details!.fields!.map((f) => f.field)).toEqual([
        'spec.expiry.graceDays',
        'spec.expiry.remindDaysBefore',
      ])
      const badType = await rejection(
        createActivity(deps, M, { type: 'POINT_SEND', spec: spec({ type: 'SOMETIME' }) }, actor),
      )
      expect(badType.details!.fields!.map((f) => f.field)).toContain('spec.expiry.type')
      expect(await db.db.selectFrom('stamp_activities').select('id').execute()).toHaveLength(0)
    })

    it('reminds once, some days before, of the stamps that will expire; frozen ones are not named', async () => {
      const draft = await createActivity(
        deps,
        M,
        {
          type: 'POINT_SEND',
          spec: spec({ type: 'AFTER_EARNED', days: 10, remindDaysBefore: 3 }),
        },
        actor,
      )
      activityId = (await publishActivity(deps, M, draft.id, actor)).id
      // Earned on 12-02: they expire when 12-13 begins (the 10th day after 12-02 ends).
      await deposit(5, 'd1')
      at('2026-12-05T09:00:00')
      await deposit(2, 'd2')
      // An exchange waits on 3 of them, with a long time to live.
      const frozen = await applyLedger(
        deps,
        {
          type: 'FREEZE',
          account: { merchantId: M, memberId, activityId },
          amount: 3,
          expiresAt: '2027-01-01T00:00:00.000Z',
        },
        { idempotencyKey: 'hold-1', reason: 'exchange', source: 'exchange', actor: 'test' },
      )
      expect(await account()).toMatchObject({ available: 4, frozen: 3 })

      at('2026-12-09T10:00:00')
      expect(await remindExpiringStamps(deps)).toBe(0)
      expect(await expireDueStamps(deps)).toBe(0)

      at('2026-12-10T10:00:00')
      // Two workers at once, then a rerun: one reminder.
      const [a, b] = await Promise.all([remindExpiringStamps(deps), remindExpiringStamps(deps)])
      expect(a + b).toBe(1)
      expect(await remindExpiringStamps(deps)).toBe(0)
      expect(await reminders()).toEqual([
        {
          memberId,
          notifyNo: expect.stringMatching(/^srm_/),
          // 5 earned on 12-02, 3 of them frozen for the exchange.
          amount: 2,
          expiresAt: '2026-12-12T16:00:00.000Z',
        },
      ])
      expect(await account()).toMatchObject({ available: 4, frozen: 3 })

      // The exchange completes before the expiry.
      await applyLedger(
        deps,
        { type: 'COMMIT', merchantId: M, holdId: frozen.hold!.id },
        { idempotencyKey: 'commit-1', reason: 'claimed', source: 'exchange', actor: 'test' },
      )
    })

    it('expires the stamps past their time once, with a ledger entry and a card push', async () => {
      at('2026-12-12T23:59:59')
      expect(await expireDueStamps(deps)).toBe(0)
      at('2026-12-13T00:30:00')
      const [a, b] = await Promise.all([
        expireDueStamps(deps, withCardPush(deps)),
        expireDueStamps(deps, withCardPush(deps)),
      ])
      expect(a + b).toBe(2)
      expect(await expireDueStamps(deps, withCardPush(deps))).toBe(0)
      expect(await account()).toMatchObject({ available: 2, frozen: 0, earned: 7 })
      const { entries } = await accountHistory(deps, M, (await account()).id)
      const expiries = entries.filter((e) => e.source === 'expiry')
      expect(expiries).toEqual([
        expect.objectContaining({ type: 'CONSUME', amount: 2, availableAfter: 2, actor: 'system' }),
      ])
      expect(expiries[0]!.idempotencyKey).toMatch(/^expire:/)
      const pushes = await listOutbox(db, { topic: STAMPS_CARD_TOPIC })
      expect(pushes.filter((p) => p.status === 'pending')).toHaveLength(1)
    })

    it('the stamps of a later day get their own reminder and expiry', async () => {
      at('2026-12-13T01:00:00')
      expect(await remindExpiringStamps(deps)).toBe(1)
      expect((await reminders()).at(-1)).toMatchObject({
        amount: 2,
        expiresAt: '2026-12-15T16:00:00.000Z',
      })
      at('2026-12-15T23:00:00')
      expect(await expireDueStamps(deps)).toBe(0)
      at('2026-12-16T00:00:00')
      expect(await expireDueStamps(deps)).toBe(2)
      expect(await account()).toMatchObject({ available: 0, frozen: 0 })
      expect(await remindExpiringStamps(deps)).toBe(0)
      expect(await reminders()).toHaveLength(2)
      // Not bound to Koubei (mirrorToKoubei: false): nothing is mirrored.
      expect(await listOutbox(db, { topic: STAMPS_MIRROR_TOPIC })).toEqual([])
    })

    it('ACTIVITY_END: every stamp expires graceDays after the end; a held one waits', async () => {
      const draft = await createActivity(
        deps,
        M,
        {
          type: 'POINT_SEND',
          spec: {
            ...spec({ type: 'ACTIVITY_END', graceDays: 1 }),
            endTime: '2026-12-20T00:00:00+08:00',
          },
        },
        actor,
      )
      const endId = (await publishActivity(deps, M, draft.id, actor)).id
      const ref = { merchantId: M, memberId, activityId: endId }
      await adjustStamps(deps, { ...ref, delta: 4, reason: 'earned', idempotencyKey: 'e1' }, actor)
      await applyLedger(
        deps,
        { type: 'FREEZE', account: ref, amount: 1, expiresAt: '2027-01-01T00:00:00.000Z' },
        { idempotencyKey: 'hold-e', reason: 'exchange', source: 'exchange', actor: 'test' },
      )
      at('2026-12-17T23:00:00')
      expect(await remindExpiringStamps(deps)).toBe(0)
      at('2026-12-18T00:00:00')
      expect(await remindExpiringStamps(deps)).toBe(1)
      expect((await reminders()).at(-1)).toMatchObject({
        amount: 3,
        expiresAt: '2026-12-20T16:00:00.000Z',
      })
      clock.advance(3 * 24 * HOUR)
      expect(await expireDueStamps(deps)).toBe(3)
      expect(await accountOf(deps, ref)).toMatchObject({ available: 0, frozen: 1 })
    })
  })
}
