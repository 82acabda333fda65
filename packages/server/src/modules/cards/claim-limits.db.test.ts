import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, DIALECTS, type TestDb } from '../../../test/helpers/db.js'
import { testDeps } from '../../../test/helpers/deps.js'
import type { AppDeps } from '../../deps.js'
import { fixedClock } from '../../shared/clock.js'
import { createIds } from '../../shared/ids.js'
import { getMember, reserveMember } from '../members/index.js'
import { ensureDefaultMerchant } from '../merchants/index.js'
import type { CardTemplate } from '../templates/index.js'
import type { ClaimRow } from './cards.table.js'
import { checkClaimAllowed, claimRefusals, originHashes } from './claim-limits.service.js'
import { blockClaims } from './index.js'

const NOW = '2026-12-06T04:00:00.000Z' // 12:00 China time

for (const dialect of DIALECTS) {
  describe(`${dialect}: claim limits count what they should`, () => {
    let db: TestDb
    let deps: AppDeps
    const ids = createIds()
    const clock = fixedClock(NOW)
    const template = (claimLimits: CardTemplate['spec']['claimLimits']) =>
      ({ id: 'tpl_limits', spec: { claimLimits } }) as CardTemplate

    /** A claim of template T1 as the claim flow stores it, `ageMinutes` ago. */
    async function storeClaim(
      fields: Partial<ClaimRow> & { ageMinutes?: number; ip?: string; device?: string },
    ): Promise<ClaimRow> {
      const at = new Date(clock.now().getTime() - (fields.ageMinutes ?? 0) * 60_000).toISOString()
      const row: ClaimRow = {
        id: ids.next('clm'),
        merchant_id: 'mch_default',
        request_id: ids.next('req'),
        alipay_template_id: 'T1',
        out_string: null,
        alipay_user_id: null,
        status: fields.status ?? 'started',
        card_id: null,
        error_code: fields.error_code ?? null,
        error_message: null,
        ...originHashes(deps, { ip: fields.ip, deviceId: fields.device }),
        opened_card: fields.opened_card ?? null,
        mode: '3.0',
        alipay_card_no: null,
        answer: null,
        alipay_open_id: null,
        created_at: at,
        updated_at: at,
      }
      await db.db.insertInto('claims').values(row).execute()
      return row
    }

    const check = (
      claim: ClaimRow,
      limits: CardTemplate['spec']['claimLimits'],
      user = '2088000000000009',
    ) => checkClaimAllowed(deps, { template: template(limits), alipayUserId: user, claim })
    const refusal = async (p: Promise<void>) => {
      try {
        await p
        return 'allowed'
      } catch (e) {
        return (e as { code: string }).code
      }
    }

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db, { clock })
      await ensureDefaultMerchant({ db: db.db, clock })
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('counts in-flight and opening claims from one IP in the window, not failed, held-back or older ones', async () => {
      const ip = '203.0.113.7'
      await storeClaim({ ip, status: 'done', opened_card: 1, ageMinutes: 10 })
      await storeClaim({ ip, status: 'started', ageMinutes: 1 })
      await storeClaim({ ip, status: 'failed', error_code: 'ALIPAY_X', ageMinutes: 5 })
      await storeClaim({ ip, status: 'done', opened_card: 0, ageMinutes: 5 })
      await storeClaim({ ip, status: 'done', opened_card: 1, ageMinutes: 90 })
      await storeClaim({ ip: '203.0.113.8', status: 'done', opened_card: 1 })
      const mine = await storeClaim({ ip })
      expect(await refusal(check(mine, { perIp: { max: 3, windowMinutes: 60 } }))).toBe('allowed')
      expect(await refusal(check(mine, { perIp: { max: 2, windowMinutes: 60 } }))).toBe(
        'CLAIM_LIMIT_IP',
      )
      // A claim that started later does not count against an earlier one: the earlier wins.
      await storeClaim({ ip })
      expect(await refusal(check(mine, { perIp: { max: 3, windowMinutes: 60 } }))).toBe('allowed')
    })

    it('counts by device, and per China day from midnight China time', async () => {
      const device = 'dev-abcdefghijklmnop'
      await storeClaim({ device, status: 'done', opened_card: 1, ageMinutes: 30 })
      const mine = await storeClaim({ device })
      expect(await refusal(check(mine, { perDevice: { max: 1, windowMinutes: 60 } }))).toBe(
        'CLAIM_LIMIT_DEVICE',
      )
      expect(await refusal(check(mine, { perDevice: { max: 1, windowMinutes: 20 } }))).toBe(
        'allowed',
      )
      // 12 hours back is midnight China time: everything stored above is today.
      const today = Number(
        (
          await db.db
            .selectFrom('claims')
            .select((eb) => eb.fn.countAll<string | number>().as('n'))
            .where('id', '<', mine.id)
            .where((eb) => eb.or([eb('status', '=', 'started'), eb('opened_card', '=', 1)]))
            .executeTakeFirstOrThrow()
        ).n,
      )
      expect(await refusal(check(mine, { perDay: today }))).toBe('CLAIM_LIMIT_DAY')
      expect(await refusal(check(mine, { perDay: today + 1 }))).toBe('allowed')
      await storeClaim({ status: 'done', opened_card: 1, ageMinutes: 12 * 60 + 1 })
      expect(await refusal(check(mine, { perDay: today + 1 }))).toBe('allowed')
    })

    it('refuses a blocked user whatever the limits, and counts refusals per reason', async () => {
      await blockClaims(
        deps,
        'mch_default',
        { alipayUserId: '2088000000000666', reason: 'x' },
        {
          actor: 'test',
        },
      )
      const mine = await storeClaim({})
      expect(await refusal(check(mine, undefined, '2088000000000666'))).toBe('CLAIM_BLOCKED')
      await storeClaim({ status: 'failed', error_code: 'CLAIM_BLOCKED' })
      await storeClaim({ status: 'failed', error_code: 'CLAIM_LIMIT_IP' })
      await storeClaim({ status: 'failed', error_code: 'CLAIM_LIMIT_IP' })
      await storeClaim({ status: 'failed', error_code: 'ALIPAY_20000' })
      const counts = await claimRefusals(deps, 'mch_default', '2026-12-01T00:00:00.000Z')
      expect(counts).toEqual([
        { errcode: 'CLAIM_BLOCKED', count: 1 },
        { errcode: 'CLAIM_LIMIT_USER', count: 0 },
        { errcode: 'CLAIM_LIMIT_DEVICE', count: 0 },
        { errcode: 'CLAIM_LIMIT_IP', count: 2 },
        { errcode: 'CLAIM_LIMIT_DAY', count: 0 },
      ])
    })
  })

  describe(`${dialect}: member data keys`, () => {
    let db: TestDb
    let deps: AppDeps

    beforeAll(async () => {
      db = await createTestDb(dialect)
      deps = testDeps(db)
      await ensureDefaultMerchant({ db: db.db, clock: deps.clock })
    })
    afterAll(async () => {
      await db.destroy()
    })

    it('seals every personal field under the member’s own key, and reads members stored before keys', async () => {
      const profile = { name: '赵六', mobile: '13600001234', gender: '女', birthday: '1990-02-03' }
      const member = await reserveMember(deps, 'mch_default', '2088000000000777', profile, {
        prefix: 'KG',
        style: 'random',
      })
      expect(member.profile).toEqual(profile)
      const row = await db.db
        .selectFrom('members')
        .selectAll()
        .where('id', '=', member.id)
        .executeTakeFirstOrThrow()
      expect(row.data_key_enc).toBeTruthy()
      for (const value of [row.name_enc, row.mobile_enc, row.gender, row.birthday]) {
        expect(value).toMatch(/^v2\./)
      }
      // A member stored before data keys: fields under the master key, gender and birthday in clear.
      await db.db
        .updateTable('members')
        .set({
          data_key_enc: null,
          name_enc: deps.cipher.encrypt('钱七', 'members.name'),
          mobile_enc: null,
          mobile_hash: null,
          gender: '男',
          birthday: '1980-01-01',
        })
        .where('id', '=', member.id)
        .execute()
      expect((await getMember(deps, member.id))!.profile).toEqual({
        name: '钱七',
        gender: '男',
        birthday: '1980-01-01',
      })
    })
  })
}
