import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFieldCipher } from '../../src/shared/field-crypto.js'
import {
  adminClient,
  cardSpec,
  configureMerchant,
  emulatorCards,
  emulatorJson,
  publishCard,
  startStack,
  type AdminClient,
  type Stack,
} from '../helpers/kaguan.js'

interface ClaimAnswer {
  status: number
  body: string
  setCookie: string[]
}

async function newUser(stack: Stack, name: string, mobile: string): Promise<string> {
  return (
    await emulatorJson<{ userId: string }>(stack.emulator, 'POST', '/__emulator/users', {
      name,
      mobile,
    })
  ).userId
}

/** A claim as the user's phone makes it: its cookies, and the address a proxy saw it from. */
async function claim(
  stack: Stack,
  userId: string,
  claimUrl: string,
  browser: { ip?: string; cookie?: string } = {},
): Promise<ClaimAnswer> {
  return emulatorJson<ClaimAnswer>(stack.emulator, 'POST', '/__emulator/claim', {
    userId,
    applyCardUrl: claimUrl,
    form: { OPEN_FORM_FIELD_MOBILE: '13800138000', OPEN_FORM_FIELD_NAME: '李四' },
    browserHeaders: {
      ...(browser.ip ? { 'x-forwarded-for': browser.ip } : {}),
      ...(browser.cookie ? { cookie: browser.cookie } : {}),
    },
  })
}

const codeOf = (answer: ClaimAnswer) => /data-code="([A-Z_0-9]+)"/.exec(answer.body)?.[1]
const deviceCookieOf = (answer: ClaimAnswer) =>
  answer.setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith('kg_dev='))

const activeCards = async (stack: Stack, userId: string) =>
  (await emulatorCards(stack, { userId })).filter((c) => c.status === 'ACTIVE')

describe('claim limits and blocked users (abuse controls for open-card gifts)', () => {
  let stack: Stack
  let admin: AdminClient
  let limited: { templateId: string; claimUrl: string }
  let daily: { templateId: string; claimUrl: string }
  let users = 0
  const user = () => newUser(stack, '李四', `1390000${String(++users).padStart(4, '0')}`)

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    const images = await configureMerchant(stack, admin)
    limited = await publishCard(admin, {
      ...cardSpec(images, { name: '限领会员卡' }),
      claimLimits: {
        perUser: 1,
        perDevice: { max: 2, windowMinutes: 60 },
        perIp: { max: 3, windowMinutes: 60 },
      },
    })
    daily = await publishCard(admin, {
      ...cardSpec(images, { name: '每日限量卡' }),
      claimLimits: { perDay: 2 },
    })
  }, 60_000)
  afterAll(async () => {
    await stack?.close()
  })

  it('refuses a user who deleted their card and claims again for the opening gift', async () => {
    const u = await user()
    expect((await claim(stack, u, limited.claimUrl, { ip: '198.51.100.1' })).status).toBe(200)
    const members = await admin.request(
      'GET',
      `/api/merchants/mch_default/members?alipayUserId=${u}`,
    )
    const cardId = members.body.items[0].cards[0].id
    expect((await admin.request('DELETE', `/api/cards/${cardId}`)).status).toBe(204)

    const again = await claim(stack, u, limited.claimUrl, { ip: '198.51.100.1' })
    expect(again.status).toBe(400)
    expect(codeOf(again)).toBe('CLAIM_LIMIT_USER')
    expect(again.body).toContain('您已经领取过这张会员卡')
    expect(again.body).not.toContain('重新领取')
    expect(await activeCards(stack, u)).toHaveLength(0)
  })

  it('counts the cards opened from one phone, whoever claims', async () => {
    const first = await claim(stack, await user(), limited.claimUrl, { ip: '198.51.100.2' })
    expect(first.status).toBe(200)
    const cookie = deviceCookieOf(first)
    expect(cookie).toMatch(/^kg_dev=[\w-]{16,}$/)
    const second = await claim(stack, await user(), limited.claimUrl, {
      ip: '198.51.100.3',
      cookie,
    })
    expect(second.status).toBe(200)
    expect(deviceCookieOf(second)).toBeUndefined()
    const thirdUser = await user()
    const third = await claim(stack, thirdUser, limited.claimUrl, { ip: '198.51.100.4', cookie })
    expect(third.status).toBe(400)
    expect(codeOf(third)).toBe('CLAIM_LIMIT_DEVICE')
    expect(await activeCards(stack, thirdUser)).toHaveLength(0)
  })

  it('counts the cards opened from one IP address, and a user holding the card still gets it back', async () => {
    const ip = '203.0.113.9'
    const holders: string[] = []
    for (let i = 0; i < 3; i++) {
      const u = await user()
      expect((await claim(stack, u, limited.claimUrl, { ip })).status).toBe(200)
      holders.push(u)
    }
    const refusedUser = await user()
    const refused = await claim(stack, refusedUser, limited.claimUrl, { ip })
    expect(codeOf(refused)).toBe('CLAIM_LIMIT_IP')
    expect(refused.body).toContain('当前网络')
    expect(await activeCards(stack, refusedUser)).toHaveLength(0)
    // Limits stop new cards, not a holder opening the link again.
    const back = await claim(stack, holders[0]!, limited.claimUrl, { ip })
    expect(back.status).toBe(200)
    expect(back.body).toContain('您已领取过这张会员卡')
    // Another network is another count.
    expect(
      (await claim(stack, await user(), limited.claimUrl, { ip: '203.0.113.10' })).status,
    ).toBe(200)
  })

  it('stops a template at its cards per day, all users together', async () => {
    for (let i = 0; i < 2; i++) {
      expect(
        (await claim(stack, await user(), daily.claimUrl, { ip: `192.0.2.${i + 1}` })).status,
      ).toBe(200)
    }
    const late = await user()
    const refused = await claim(stack, late, daily.claimUrl, { ip: '192.0.2.99' })
    expect(codeOf(refused)).toBe('CLAIM_LIMIT_DAY')
    expect(refused.body).toContain('今天的会员卡已经领完了')
    expect(await activeCards(stack, late)).toHaveLength(0)
  })

  it('lets an operator block a user, audited, and unblock them', async () => {
    const u = await user()
    const viewer = await adminClient(stack, 'viewer')
    const denied = await viewer.request('POST', '/api/merchants/mch_default/claim-blocks', {
      alipayUserId: u,
      reason: '薅羊毛',
    })
    expect(denied.status).toBe(403)
    const bad = await admin.request('POST', '/api/merchants/mch_default/claim-blocks', {
      alipayUserId: u,
    })
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('reason')

    const blocked = await admin.request('POST', '/api/merchants/mch_default/claim-blocks', {
      alipayUserId: u,
      reason: '薅羊毛',
    })
    expect(blocked.status, blocked.text).toBe(200)
    expect(blocked.body).toMatchObject({ alipayUserId: u, reason: '薅羊毛' })
    const list = await admin.request('GET', '/api/merchants/mch_default/claim-blocks')
    expect(list.body.map((b: { alipayUserId: string }) => b.alipayUserId)).toContain(u)

    const refused = await claim(stack, u, limited.claimUrl, {
      ip: '198.18.0.1',
    })
    expect(codeOf(refused)).toBe('CLAIM_BLOCKED')
    expect(await activeCards(stack, u)).toHaveLength(0)

    expect(
      (await admin.request('DELETE', `/api/merchants/mch_default/claim-blocks/${u}`)).status,
    ).toBe(204)
    expect(
      (await admin.request('DELETE', `/api/merchants/mch_default/claim-blocks/${u}`)).body.errcode,
    ).toBe('CLAIM_BLOCK_NOT_FOUND')
    expect((await claim(stack, u, limited.claimUrl, { ip: '198.18.0.2' })).status).toBe(200)

    const audit = await admin.request('GET', '/api/audit?merchantId=mch_default&pageSize=100')
    const actions = audit.body.items.map((e: { action: string }) => e.action)
    expect(actions).toContain('claim_block.add')
    expect(actions).toContain('claim_block.remove')
  })

  it('counts refusals per reason on the dashboard', async () => {
    const dash = await admin.request('GET', '/api/dashboard?merchantId=mch_default&days=1')
    expect(dash.status, dash.text).toBe(200)
    const counts = Object.fromEntries(
      dash.body.claimRefusals.map((r: { errcode: string; count: number }) => [r.errcode, r.count]),
    )
    expect(counts).toEqual({
      CLAIM_BLOCKED: 1,
      CLAIM_LIMIT_USER: 1,
      CLAIM_LIMIT_DEVICE: 1,
      CLAIM_LIMIT_IP: 1,
      CLAIM_LIMIT_DAY: 1,
    })
  })

  it('refuses a limit that makes no sense, naming the field, and changes nothing', async () => {
    const before = await admin.request('GET', `/api/templates/${daily.templateId}`)
    const res = await admin.request('PUT', `/api/templates/${daily.templateId}`, {
      spec: { ...before.body.spec, claimLimits: { perDevice: { max: 0, windowMinutes: 60 } } },
    })
    expect(res.status).toBe(400)
    expect(res.text).toContain('claimLimits')
    const after = await admin.request('GET', `/api/templates/${daily.templateId}`)
    expect(after.body.spec.claimLimits).toEqual({ perDay: 2 })
    expect(after.body.revision).toBe(before.body.revision)
  })
})

describe("a member's personal data on request (PIPL export and erasure)", () => {
  let stack: Stack
  let admin: AdminClient
  let card: { templateId: string; claimUrl: string }

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    card = await publishCard(admin, cardSpec(await configureMerchant(stack, admin)))
  }, 60_000)
  afterAll(async () => {
    await stack?.close()
  })

  it('exports everything kaguan holds, then erases the personal data while the ledger keeps its sums', async () => {
    const u = await newUser(stack, '王五', '13700001111')
    expect((await claim(stack, u, card.claimUrl)).status).toBe(200)
    const found = await admin.request('GET', `/api/merchants/mch_default/members?alipayUserId=${u}`)
    const member = found.body.items[0]
    const cardId = member.cards[0].id
    await admin.request('POST', `/api/cards/${cardId}/points`, {
      delta: 5,
      reason: '消费',
      idempotencyKey: 'pipl-test-0001',
    })

    const exported = await admin.request(
      'GET',
      `/api/merchants/mch_default/members/${member.id}/export`,
    )
    expect(exported.status, exported.text).toBe(200)
    expect(exported.headers.get('content-disposition')).toContain(`member-${member.id}.json`)
    expect(exported.body.member).toMatchObject({
      id: member.id,
      alipayUserId: u,
      profile: { name: '李四', mobile: '13800138000' },
    })
    expect(exported.body.cards).toHaveLength(1)
    expect(exported.body.pointEntries.map((e: { delta: number }) => e.delta).sort()).toEqual(
      [10, 5].sort(),
    )
    expect(exported.body.claims).toHaveLength(1)

    const { db, config } = stack.kaguan.deps
    const stored = await db
      .selectFrom('members')
      .selectAll()
      .where('id', '=', member.id)
      .executeTakeFirstOrThrow()
    expect(stored.data_key_enc).toBeTruthy()
    expect(stored.gender).not.toBe('男')

    const missing = await admin.request(
      'POST',
      `/api/merchants/mch_default/members/${member.id}/erase`,
      {},
    )
    expect(missing.status).toBe(400)
    expect(missing.text).toContain('reason')

    const erased = await admin.request(
      'POST',
      `/api/merchants/mch_default/members/${member.id}/erase`,
      { reason: 'PIPL-2026-001' },
    )
    expect(erased.status, erased.text).toBe(200)
    expect(erased.body.deletedCards).toEqual([cardId])
    expect(await activeCards(stack, u)).toHaveLength(0)

    const after = await db
      .selectFrom('members')
      .selectAll()
      .where('id', '=', member.id)
      .executeTakeFirstOrThrow()
    expect(after).toMatchObject({
      data_key_enc: null,
      name_enc: null,
      mobile_enc: null,
      mobile_hash: null,
      gender: null,
    })
    // A copy taken before (a backup): without the member's data key the master key cannot read it.
    const master = createFieldCipher(config.masterKey!)
    expect(() => master.decrypt(stored.name_enc!, 'members.name')).toThrow()

    const byMobile = await admin.request(
      'GET',
      '/api/merchants/mch_default/members?mobile=13800138000',
    )
    expect(byMobile.body.items.map((m: { id: string }) => m.id)).not.toContain(member.id)
    const again = await admin.request(
      'GET',
      `/api/merchants/mch_default/members/${member.id}/export`,
    )
    expect(again.body.member.profile).toEqual({})
    expect(again.body.member.erasedAt).toBe(erased.body.erasedAt)
    // The ledger keeps its sums: the card's entries are all still there.
    expect(again.body.pointEntries).toHaveLength(exported.body.pointEntries.length)

    const audit = await admin.request('GET', '/api/audit?merchantId=mch_default&pageSize=100')
    const actions = audit.body.items.map((e: { action: string }) => e.action)
    expect(actions).toContain('member.export')
    expect(actions).toContain('member.erase')
  })

  it('answers an unknown member with MEMBER_NOT_FOUND', async () => {
    const res = await admin.request('GET', '/api/merchants/mch_default/members/mbr_nope/export')
    expect(res.status).toBe(404)
    expect(res.body.errcode).toBe('MEMBER_NOT_FOUND')
  })
})
