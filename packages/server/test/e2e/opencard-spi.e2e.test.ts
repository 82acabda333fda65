import { createCoreClient, generateKeyPair } from '@kaguan/crm-sdk'
import { startSampleCrm, type SampleCrm } from '@kaguan/sample-crm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminClient,
  cardSpec,
  configureMerchant,
  emulatorCards,
  emulatorJson,
  eventually,
  publishCard,
  startStack,
  type AdminClient,
  type Stack,
} from '../helpers/kaguan.js'
import { createTestDb, DIALECTS, type TestDb } from '../helpers/db.js'

const TOKEN = 'spi-test-token'

interface SpiClaim {
  mode: '3.1'
  outSerialNo: string
  bizCardNo: string
  spiStatuses: number[]
  spiAnswers: ({ code: string; external_card_no?: string; point?: string } | null)[]
  opened: boolean
  resultNotifyId: string | null
  card: { bizCardNo: string; externalCardNo: string; point: string } | null
}

async function newUser(stack: Stack, name = '钱七'): Promise<string> {
  const { userId } = await emulatorJson<{ userId: string }>(
    stack.emulator,
    'POST',
    '/__emulator/users',
    { name, mobile: '13700137000' },
  )
  return userId
}

function claimOf(
  stack: Stack,
  userId: string,
  claimUrl: string,
  extra: { openResult?: 'success' | 'failure'; spiCalls?: number } = {},
): Promise<SpiClaim> {
  return emulatorJson<SpiClaim>(stack.emulator, 'POST', '/__emulator/claim', {
    userId,
    applyCardUrl: claimUrl,
    form: { OPEN_FORM_FIELD_MOBILE: '13700137000', OPEN_FORM_FIELD_NAME: '钱七' },
    ...extra,
  })
}

/** kaguan's card for Alipay's card number, once the result message has committed it. */
function kaguanCard(stack: Stack, alipayCardNo: string) {
  return stack.kaguan.deps.db
    .selectFrom('cards')
    .selectAll()
    .where('alipay_card_no', '=', alipayCardNo)
    .executeTakeFirst()
}

function openRequest(stack: Stack, outSerialNo: string) {
  return stack.kaguan.deps.db
    .selectFrom('claims')
    .selectAll()
    .where('request_id', '=', `spi:${outSerialNo}`)
    .executeTakeFirst()
}

async function resultDelivered(stack: Stack, notifyId: string): Promise<void> {
  await eventually(async () => {
    const list = await emulatorJson<{ id: string; status: string }[]>(
      stack.emulator,
      'GET',
      '/__emulator/notifications',
    )
    return list.find((n) => n.id === notifyId)?.status === 'delivered'
  }, 'the open-card result message delivered')
}

const spec31 = (images: { logoId: string; backgroundId: string }) => ({
  ...cardSpec(images, { name: '极速会员卡' }),
  openCardMode: '3.1',
})

describe('3.1 极速版 open-card, no CRM', () => {
  let stack: Stack
  let admin: AdminClient
  let card: { templateId: string; alipayTemplateId: string; claimUrl: string }

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    card = await publishCard(admin, spec31(await configureMerchant(stack, admin)))
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('publishes the template with spi_app_id, and the wallet opens the card through the SPI', async () => {
    const calls = await emulatorJson<{ bizContent: string | null }[]>(
      stack.emulator,
      'GET',
      '/__emulator/calls?method=alipay.marketing.card.template.create',
    )
    expect(JSON.stringify(calls)).toContain(`spi_app_id`)

    const userId = await newUser(stack)
    const claim = await claimOf(stack, userId, card.claimUrl)
    expect(claim.mode).toBe('3.1')
    expect(claim.spiStatuses).toEqual([200])
    expect(claim.spiAnswers[0]).toMatchObject({ code: '10000', point: '10' })
    expect(claim.opened).toBe(true)
    await resultDelivered(stack, claim.resultNotifyId!)
    const stored = await eventually(() => kaguanCard(stack, claim.bizCardNo), 'the card stored')
    expect(stored).toMatchObject({
      status: 'active',
      alipay_user_id: userId,
      biz_card_no: claim.card!.externalCardNo,
      point: 10,
    })
    const [shown] = await emulatorCards(stack, { userId })
    expect(shown).toMatchObject({ externalCardNo: stored.biz_card_no, status: 'ACTIVE' })
    // No /aliCallback, no card.open: Alipay opened the card.
    const opens = await emulatorJson<unknown[]>(
      stack.emulator,
      'GET',
      '/__emulator/calls?method=alipay.marketing.card.open',
    )
    expect(opens).toEqual([])
  })

  it('a failed result leaves nothing half-done, and a later claim works', async () => {
    const userId = await newUser(stack, '孙八')
    const failed = await claimOf(stack, userId, card.claimUrl, { openResult: 'failure' })
    expect(failed.opened).toBe(false)
    await resultDelivered(stack, failed.resultNotifyId!)
    expect(await kaguanCard(stack, failed.bizCardNo)).toBeUndefined()
    expect(await openRequest(stack, failed.outSerialNo)).toMatchObject({
      status: 'failed',
      card_id: null,
    })
    expect(await emulatorCards(stack, { userId })).toEqual([])

    const again = await claimOf(stack, userId, card.claimUrl)
    expect(again.opened).toBe(true)
    await resultDelivered(stack, again.resultNotifyId!)
    const stored = await eventually(() => kaguanCard(stack, again.bizCardNo), 'the card stored')
    // The member number reserved by the failed attempt is the one the card opens with.
    expect(stored.biz_card_no).toBe(failed.spiAnswers[0]!.external_card_no)
    expect(await openRequest(stack, again.outSerialNo)).toMatchObject({ status: 'done' })
  })

  it('refuses an SPI request Alipay did not sign, changing nothing', async () => {
    const before = await stack.kaguan.deps.db
      .selectFrom('claims')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    const res = await fetch(`${stack.kaguan.urls.mini}/alipay/spi`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        method: 'spi.alipay.user.opencard.get',
        biz_app_id: stack.appId,
        charset: 'utf-8',
        sign_type: 'RSA2',
        sign: 'Zm9yZ2Vk',
        biz_content: JSON.stringify({
          user_id: '2088000000000001',
          template_id: card.alipayTemplateId,
          out_serial_no: 'forged-1',
          biz_card_no: 'forged-1',
        }),
      }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ errcode: 'SPI_BAD_REQUEST' })
    const after = await stack.kaguan.deps.db
      .selectFrom('claims')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    expect(Number(after.n)).toBe(Number(before.n))
  })
})

for (const dialect of DIALECTS) {
  describe(`${dialect}: 3.1 极速版 open-card, CRM mode`, () => {
    let stack: Stack
    let admin: AdminClient
    let crm: SampleCrm
    let card: { templateId: string; alipayTemplateId: string; claimUrl: string }
    let db: TestDb | undefined

    beforeAll(async () => {
      db = dialect === 'postgres' ? await createTestDb('postgres') : undefined
      stack = await startStack(db ? { databaseUrl: db.url } : {})
      admin = await adminClient(stack, 'admin')
      const keys = generateKeyPair()
      crm = await startSampleCrm({
        port: 0,
        token: TOKEN,
        privateKey: keys.privateKey,
        kaguanCoreUrl: stack.kaguan.urls.core!,
      })
      const images = await configureMerchant(stack, admin, {
        baseUrl: crm.url,
        token: TOKEN,
        publicKey: keys.publicKey,
      })
      card = await publishCard(admin, spec31(images))
    })
    afterAll(async () => {
      await crm?.close()
      await stack?.close()
      await db?.destroy()
    })

    const requestsFor = (path: string, userId: string) =>
      crm.requests.filter(
        (r) => r.path === path && (r.body as { alipayUserId?: string }).alipayUserId === userId,
      )

    it('asks the CRM, opens the card, and tells the CRM cardChange ADD on the result', async () => {
      const userId = await newUser(stack)
      const claim = await claimOf(stack, userId, card.claimUrl)
      expect(claim.opened).toBe(true)
      const add = await eventually(
        async () => requestsFor('/card/cardChange', userId)[0],
        'cardChange ADD',
      )
      expect(add.body).toMatchObject({
        type: 'ADD',
        templateId: card.alipayTemplateId,
        alipayCardNo: claim.bizCardNo,
        bizCardNo: claim.card!.externalCardNo,
      })
      expect(requestsFor('/card/openCardInfo', userId)).toHaveLength(1)
      // The CRM's welcome points are on the card in the wallet.
      expect(claim.card!.point).toBe('100')
    })

    it('a retried SPI call opens one card and asks the CRM once', async () => {
      const userId = await newUser(stack, '周九')
      const claim = await claimOf(stack, userId, card.claimUrl, { spiCalls: 2 })
      expect(claim.spiStatuses).toEqual([200, 200])
      expect(claim.spiAnswers[1]).toEqual(claim.spiAnswers[0])
      expect(claim.spiAnswers[0]).toMatchObject({ code: '10000' })
      await resultDelivered(stack, claim.resultNotifyId!)
      await eventually(async () => requestsFor('/card/cardChange', userId)[0], 'cardChange ADD')
      expect(requestsFor('/card/openCardInfo', userId)).toHaveLength(1)
      const cards = await stack.kaguan.deps.db
        .selectFrom('cards')
        .selectAll()
        .where('alipay_user_id', '=', userId)
        .execute()
      expect(cards).toHaveLength(1)
      expect(await emulatorCards(stack, { userId })).toHaveLength(1)
    })

    it('a failed result tells the CRM nothing, and a later claim opens the card', async () => {
      const userId = await newUser(stack, '吴十')
      const failed = await claimOf(stack, userId, card.claimUrl, { openResult: 'failure' })
      await resultDelivered(stack, failed.resultNotifyId!)
      expect(await openRequest(stack, failed.outSerialNo)).toMatchObject({ status: 'failed' })
      const again = await claimOf(stack, userId, card.claimUrl)
      await eventually(async () => requestsFor('/card/cardChange', userId)[0], 'cardChange ADD')
      const adds = requestsFor('/card/cardChange', userId)
      expect(adds).toHaveLength(1)
      expect(adds[0]!.body).toMatchObject({ alipayCardNo: again.bizCardNo })
    })
  })
}

describe('OpenID: an app that gets only open_id', () => {
  let stack: Stack
  let admin: AdminClient
  let crm: SampleCrm
  let keys: { privateKey: string; publicKey: string }
  let card: { templateId: string; alipayTemplateId: string; claimUrl: string }

  beforeAll(async () => {
    stack = await startStack({ userIdMode: 'open_id' })
    admin = await adminClient(stack, 'admin')
    keys = generateKeyPair()
    crm = await startSampleCrm({
      port: 0,
      token: TOKEN,
      privateKey: keys.privateKey,
      kaguanCoreUrl: stack.kaguan.urls.core!,
    })
    const images = await configureMerchant(stack, admin, {
      baseUrl: crm.url,
      token: TOKEN,
      publicKey: keys.publicKey,
    })
    card = await publishCard(admin, cardSpec(images))
  })
  afterAll(async () => {
    await crm?.close()
    await stack?.close()
  })

  it('claims by open_id, and a CRM /card/update shows in the wallet', async () => {
    const userId = await newUser(stack)
    const res = await emulatorJson<{ status: number; body: string }>(
      stack.emulator,
      'POST',
      '/__emulator/claim',
      {
        userId,
        applyCardUrl: card.claimUrl,
        form: { OPEN_FORM_FIELD_MOBILE: '13700137000', OPEN_FORM_FIELD_NAME: '钱七' },
      },
    )
    expect(res.status).toBe(200)
    const [held] = await emulatorCards(stack, { userId })
    expect(held).toBeDefined()

    // kaguan keyed the card by the open_id: the user_id never reached it.
    const stored = await kaguanCard(stack, held!.bizCardNo)
    expect(stored!.alipay_user_id).not.toMatch(/^2088/)
    expect(stored!.alipay_open_id).toBe(stored!.alipay_user_id)
    const info = crm.requests.find((r) => r.path === '/card/openCardInfo')!
    expect(info.body).toMatchObject({
      alipayUserId: stored!.alipay_user_id,
      alipayOpenId: stored!.alipay_user_id,
    })
    expect(JSON.stringify(crm.requests)).not.toContain(userId)

    const client = createCoreClient({
      baseUrl: stack.kaguan.urls.core!,
      privateKey: keys.privateKey,
    })
    expect(
      await client.updateCard({
        templateId: card.alipayTemplateId,
        bizCardNo: held!.externalCardNo,
        point: '4321',
        changeReason: 'OpenID 积分',
      }),
    ).toEqual({ status: 'OK' })
    await eventually(async () => {
      const [c] = await emulatorCards(stack, { userId })
      return Number(c?.point) === 4321
    }, 'the new points in the wallet')
  })
})
