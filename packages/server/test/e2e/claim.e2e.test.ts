import { createServer, type Server, type ServerResponse } from 'node:http'
import { generateKeyPair } from '@kaguan/crm-sdk'
import { startSampleCrm } from '@kaguan/sample-crm'
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

async function newUser(stack: Stack, name = '张三'): Promise<string> {
  return (
    await emulatorJson<{ userId: string }>(stack.emulator, 'POST', '/__emulator/users', {
      name,
      mobile: '13800138000',
      gender: '男',
    })
  ).userId
}

async function claim(stack: Stack, userId: string, claimUrl: string) {
  return emulatorJson<{ status: number; body: string; callbackUrl: string; requestId: string }>(
    stack.emulator,
    'POST',
    '/__emulator/claim',
    {
      userId,
      applyCardUrl: claimUrl,
      form: {
        OPEN_FORM_FIELD_MOBILE: '13800138000',
        OPEN_FORM_FIELD_NAME: '张三',
        OPEN_FORM_FIELD_GENDER: '男',
      },
    },
  )
}

const cardsOf = (stack: Stack, userId: string) => emulatorCards(stack, { userId })

describe('claiming a card without a CRM (kaguan is the member system)', () => {
  let stack: Stack
  let admin: AdminClient
  let card: { templateId: string; alipayTemplateId: string; claimUrl: string }

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    card = await publishCard(admin, cardSpec(await configureMerchant(stack, admin)))
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('opens the Alipay card with a kaguan card number and the template defaults', async () => {
    const userId = await newUser(stack)
    const res = await claim(stack, userId, card.claimUrl)
    expect(res.status, res.body).toBe(200)
    expect(res.body).toContain('领卡成功')
    const [opened] = await cardsOf(stack, userId)
    expect(opened).toMatchObject({
      templateId: card.alipayTemplateId,
      status: 'ACTIVE',
      level: 'SILVER',
    })
    expect(Number(opened!.point)).toBe(10)
    expect(opened!.externalCardNo).toMatch(/^KG\d{16}$/)
    const found = await admin.request(
      'GET',
      `/api/merchants/mch_default/members?mobile=13800138000`,
    )
    expect(found.status, found.text).toBe(200)
    const member = found.body.items.find((m: any) => m.alipayUserId === userId)
    expect(member.bizCardNo).toBe(opened!.externalCardNo)
    expect(member.cards[0]).toMatchObject({
      alipayCardNo: opened!.bizCardNo,
      point: 10,
      status: 'active',
    })
  })

  it('answers a repeated callback with the same card, and a second claim of the same template too', async () => {
    const userId = await newUser(stack)
    const first = await claim(stack, userId, card.claimUrl)
    const again = await Promise.all([
      fetch(first.callbackUrl),
      fetch(first.callbackUrl),
      fetch(first.callbackUrl),
    ])
    for (const r of again) {
      expect(await r.text()).toContain('领卡')
    }
    const second = await claim(stack, userId, card.claimUrl)
    expect(second.body).toContain('您已领取过这张会员卡')
    expect(await cardsOf(stack, userId)).toHaveLength(1)
    const members = await admin.request(
      'GET',
      `/api/merchants/mch_default/members?alipayUserId=${userId}`,
    )
    expect(members.body.items).toHaveLength(1)
    expect(members.body.items[0].cards).toHaveLength(1)
  })

  it('gives one card when two tabs submit the form at the same time', async () => {
    const userId = await newUser(stack)
    const results = await Promise.all([
      claim(stack, userId, card.claimUrl),
      claim(stack, userId, card.claimUrl),
      claim(stack, userId, card.claimUrl),
    ])
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1)
    expect(await cardsOf(stack, userId)).toHaveLength(1)
    const members = await admin.request(
      'GET',
      `/api/merchants/mch_default/members?alipayUserId=${userId}`,
    )
    expect(members.body.items[0].cards).toHaveLength(1)
  })

  it('fails cleanly when Alipay cannot open the card, and a later claim succeeds', async () => {
    const userId = await newUser(stack)
    await emulatorJson(stack.emulator, 'POST', '/__emulator/faults', {
      kind: 'code20000',
      method: 'alipay.marketing.card.open',
      count: 1,
    })
    const failed = await claim(stack, userId, card.claimUrl)
    expect(failed.status).toBe(503)
    expect(failed.body).toContain('支付宝暂时繁忙')
    expect(failed.body).toContain('重新领取')
    expect(await cardsOf(stack, userId)).toHaveLength(0)
    expect(
      (await admin.request('GET', `/api/merchants/mch_default/members?alipayUserId=${userId}`)).body
        .items,
    ).toHaveLength(0)

    // Alipay opened the card but its answer cannot be trusted (broken signature): kaguan cannot
    // know the card. The next claim repeats card.open with the same out_serial_no, so Alipay answers
    // with that same card: it is adopted, not doubled.
    await emulatorJson(stack.emulator, 'POST', '/__emulator/faults', {
      kind: 'badSignature',
      method: 'alipay.marketing.card.open',
      count: 1,
    })
    const final = await claim(stack, userId, card.claimUrl)
    expect(final.status).toBe(400)
    expect(
      (await admin.request('GET', `/api/merchants/mch_default/members?alipayUserId=${userId}`)).body
        .items,
    ).toHaveLength(0)

    const retried = await claim(stack, userId, card.claimUrl)
    expect(retried.status, retried.body).toBe(200)
    const cards = await cardsOf(stack, userId)
    expect(cards).toHaveLength(1)
    const members = await admin.request(
      'GET',
      `/api/merchants/mch_default/members?alipayUserId=${userId}`,
    )
    expect(members.body.items[0].cards.map((c: any) => c.alipayCardNo)).toEqual([
      cards[0]!.bizCardNo,
    ])
  })

  it('makes dynamic codes itself when the user opens a dynamic-code card', async () => {
    const images = await configureMerchant(stack, admin)
    const dyn = await publishCard(admin, cardSpec(images, { code: 'dynamicQr', name: '动态码卡' }))
    const userId = await newUser(stack)
    await claim(stack, userId, dyn.claimUrl)
    const [c] = await cardsOf(stack, userId)
    await emulatorJson(stack.emulator, 'POST', `/__emulator/cards/${c!.bizCardNo}/show`)
    const code = await eventually(async () => {
      const [now] = await cardsOf(stack, userId)
      return now?.code ?? undefined
    }, 'the dynamic code on the card')
    expect(code).toMatch(/^66\d{16}$/)
  })
})

describe('claiming a card with the merchant CRM', () => {
  let stack: Stack
  let admin: AdminClient
  let crm: Awaited<ReturnType<typeof startSampleCrm>>
  let card: { templateId: string; alipayTemplateId: string; claimUrl: string }
  const crmKeys = generateKeyPair()
  const token = 'crm-token-for-tests'

  beforeAll(async () => {
    stack = await startStack()
    admin = await adminClient(stack, 'admin')
    crm = await startSampleCrm({
      port: 0,
      token,
      privateKey: crmKeys.privateKey,
      kaguanCoreUrl: stack.kaguan.urls.core!,
    })
    const images = await configureMerchant(stack, admin, {
      baseUrl: crm.url,
      token,
      publicKey: crmKeys.publicKey,
    })
    card = await publishCard(admin, cardSpec(images, { code: 'dynamicQr' }))
  })
  afterAll(async () => {
    await crm?.close()
    await stack?.close()
  })

  const crmCalls = (path: string) => crm.requests.filter((r) => r.path === path)

  it('asks the CRM for the member with the form values, opens the card with its number and points, then tells it ADD', async () => {
    const userId = await newUser(stack)
    const res = await claim(stack, userId, card.claimUrl)
    expect(res.status, res.body).toBe(200)
    const asked = crmCalls('/card/openCardInfo').find(
      (r) => (r.body as any).alipayUserId === userId,
    )
    expect(asked?.body).toMatchObject({
      alipayUserId: userId,
      mobile: '13800138000',
      name: '张三',
      gender: '男',
      templateId: card.alipayTemplateId,
      outString: 'test',
    })
    const [opened] = await cardsOf(stack, userId)
    expect(opened!.externalCardNo).toMatch(/^CRM\d{8}$/)
    expect(Number(opened!.point)).toBe(100)
    const add = await eventually(
      async () => crmCalls('/card/cardChange').find((r) => (r.body as any).alipayUserId === userId),
      'cardChange ADD',
    )
    expect(add.body).toMatchObject({
      type: 'ADD',
      templateId: card.alipayTemplateId,
      bizCardNo: opened!.externalCardNo,
      alipayCardNo: opened!.bizCardNo,
    })

    // A repeated callback neither opens a second card nor sends a second ADD.
    await fetch(res.callbackUrl)
    await new Promise((r) => setTimeout(r, 300))
    expect(
      crmCalls('/card/cardChange').filter((r) => (r.body as any).alipayUserId === userId),
    ).toHaveLength(1)
  })

  it('sends DEL when the user removes the card in the wallet', async () => {
    const userId = await newUser(stack)
    await claim(stack, userId, card.claimUrl)
    const [opened] = await cardsOf(stack, userId)
    await emulatorJson(stack.emulator, 'POST', `/__emulator/cards/${opened!.bizCardNo}/remove`)
    const del = await eventually(
      async () =>
        crmCalls('/card/cardChange').find(
          (r) => (r.body as any).alipayUserId === userId && (r.body as any).type === 'DEL',
        ),
      'cardChange DEL',
    )
    expect(del.body).toMatchObject({
      bizCardNo: opened!.externalCardNo,
      alipayCardNo: opened!.bizCardNo,
    })
    const members = await admin.request(
      'GET',
      `/api/merchants/mch_default/members?alipayUserId=${userId}`,
    )
    expect(members.body.items[0].cards[0].status).toBe('deleted')
  })

  it("shows the CRM's dynamic code when the user opens a dynamic-code card", async () => {
    const userId = await newUser(stack)
    await claim(stack, userId, card.claimUrl)
    const [opened] = await cardsOf(stack, userId)
    await emulatorJson(stack.emulator, 'POST', `/__emulator/cards/${opened!.bizCardNo}/show`)
    const asked = await eventually(
      async () =>
        crmCalls('/card/mdCodeChange').find((r) => (r.body as any).alipayUserId === userId),
      'mdCodeChange',
    )
    expect(asked.body).toMatchObject({ templateId: card.alipayTemplateId, alipayUserId: userId })
    const code = await eventually(async () => {
      const [now] = await cardsOf(stack, userId)
      return now?.code ?? undefined
    }, 'the CRM code on the card')
    expect(code).toMatch(/^88\d{16}$/)
  })

  it('tests the CRM connection as a claim would, and reports a wrong token', async () => {
    const good = await admin.request('POST', '/api/merchants/mch_default/crm/test')
    const row = (body: any, id: string) => body.checks.find((c: any) => c.id === id)
    expect(good.body).toMatchObject({ ok: true, failed: 0 })
    expect(row(good.body, 'open.answer')).toMatchObject({ status: 'pass' })
    expect(row(good.body, 'open.level')).toMatchObject({ status: 'pass' })
    expect(row(good.body, 'core.replay')).toMatchObject({ status: 'warn', fix: expect.any(String) })
    await admin.request('PUT', '/api/merchants/mch_default/crm', {
      mode: 'crm',
      token: 'not-the-crm-token',
    })
    const bad = await admin.request('POST', '/api/merchants/mch_default/crm/test')
    expect(bad.body.ok).toBe(false)
    expect(row(bad.body, 'open.answer')).toMatchObject({ status: 'fail', fix: expect.any(String) })
    expect(JSON.stringify(bad.body.checks)).toContain('token')
    expect(bad.text).not.toContain('not-the-crm-token')
    await admin.request('PUT', '/api/merchants/mch_default/crm', { mode: 'crm', token })
  })

  it('deletes a card from the console: Alipay removes it and the CRM hears DEL', async () => {
    const userId = await newUser(stack)
    await claim(stack, userId, card.claimUrl)
    const [opened] = await cardsOf(stack, userId)
    const members = await admin.request(
      'GET',
      `/api/merchants/mch_default/members?alipayUserId=${userId}`,
    )
    const cardId = members.body.items[0].cards[0].id
    expect((await admin.request('DELETE', `/api/cards/${cardId}`)).status).toBe(204)
    expect((await cardsOf(stack, userId))[0]!.status).not.toBe('ACTIVE')
    await eventually(
      async () =>
        crmCalls('/card/cardChange').find(
          (r) => (r.body as any).alipayUserId === userId && (r.body as any).type === 'DEL',
        ),
      'cardChange DEL',
    )
    const detail = await admin.request('GET', `/api/cards/${cardId}`)
    expect(detail.body.card.status).toBe('deleted')
    expect(detail.body.history.map((h: any) => h.action)).toEqual(
      expect.arrayContaining(['card.open', 'card.delete']),
    )
    expect(detail.body.member.profile.mobile).toBe('13800138000')
    expect((await admin.request('DELETE', `/api/cards/${cardId}`)).status).toBe(409)
    expect(opened).toBeDefined()
  })

  describe('when the CRM misbehaves', () => {
    let broken: Server
    let answer: (res: ServerResponse) => void
    beforeAll(async () => {
      broken = createServer((_req, res) => answer(res))
      await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r))
      const port = (broken.address() as { port: number }).port
      await admin.request('PUT', '/api/merchants/mch_default/crm', {
        mode: 'crm',
        baseUrl: `http://127.0.0.1:${port}`,
      })
    })
    afterAll(async () => {
      await admin.request('PUT', '/api/merchants/mch_default/crm', {
        mode: 'crm',
        baseUrl: crm.url,
      })
      await new Promise((r) => broken.close(r))
    })

    for (const [what, respond, errcode] of [
      [
        'answers HTML',
        (res: any) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>oops</html>'),
        'CRM_BAD_ANSWER',
      ],
      [
        'answers without bizCardNo',
        (res: any) => res.writeHead(200).end('{"point":"5"}'),
        'CRM_BAD_ANSWER',
      ],
      [
        'answers point as words',
        (res: any) => res.writeHead(200).end('{"bizCardNo":"X1","point":"many"}'),
        'CRM_BAD_ANSWER',
      ],
      ['is down (HTTP 502)', (res: any) => res.writeHead(502).end(), 'CRM_HTTP_ERROR'],
    ] as const) {
      it(`fails the claim when the CRM ${what}, opening nothing`, async () => {
        answer = respond
        const userId = await newUser(stack)
        const res = await claim(stack, userId, card.claimUrl)
        expect(res.status).toBeGreaterThanOrEqual(400)
        expect(res.body).toContain('领卡未成功')
        expect(res.body).toContain(errcode)
        expect(await cardsOf(stack, userId)).toHaveLength(0)
        const audit = await admin.request('GET', '/api/audit?merchantId=mch_default&pageSize=5')
        expect(audit.body.items.find((a: any) => a.action === 'claim.failed')?.after.errcode).toBe(
          errcode,
        )
      })
    }
  })

  it('succeeds on a later claim once the CRM is back', async () => {
    const userId = await newUser(stack)
    const res = await claim(stack, userId, card.claimUrl)
    expect(res.status, res.body).toBe(200)
    expect(await cardsOf(stack, userId)).toHaveLength(1)
  })
})
