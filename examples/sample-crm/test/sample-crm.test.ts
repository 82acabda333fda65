import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, verifyParams } from '@kaguan/crm-sdk'
import { startSampleCrm, type SampleCrm } from '../src/index.js'

const TOKEN = 'sample-crm-test-token'
const keys = generateKeyPair()
const TEMPLATE = '20200227000000002181302000300947'

/** A stand-in for kaguan core: verifies the CRM's signature like the real one must. */
interface CoreCall {
  path: string
  params: Record<string, string>
  signatureValid: boolean
}

async function startFakeCore(): Promise<{ url: string; server: Server; calls: CoreCall[] }> {
  const calls: CoreCall[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const params = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>
      const signatureValid = verifyParams(params, keys.publicKey)
      calls.push({ path: req.url ?? '', params, signatureValid })
      res.setHeader('content-type', 'application/json')
      if (!signatureValid) {
        return res.end(
          JSON.stringify({ status: 'FAIL', errmsg: '验签失败', errcode: 'CRM_SIGNATURE_INVALID' }),
        )
      }
      if (params.point === '999999') {
        return res.end(
          JSON.stringify({ status: 'FAIL', errmsg: '积分超出上限', errcode: 'POINT_TOO_LARGE' }),
        )
      }
      res.end(JSON.stringify({ status: 'OK' }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls }
}

describe('sample CRM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaguan-sample-crm-'))
  const dataFile = join(dir, 'members.json')
  let core: Awaited<ReturnType<typeof startFakeCore>>
  let crm: SampleCrm

  beforeAll(async () => {
    core = await startFakeCore()
    crm = await startSampleCrm({
      port: 0,
      token: TOKEN,
      privateKey: keys.privateKey,
      kaguanCoreUrl: core.url,
      dataFile,
    })
  })
  afterAll(async () => {
    await crm.close()
    core.server.closeAllConnections()
    await new Promise((resolve) => core.server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  async function call(path: string, body: unknown, token = TOKEN) {
    const response = await fetch(crm.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', token },
      body: JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }

  it('listens on a real port and answers 404 off its routes', async () => {
    expect(crm.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await fetch(crm.url + '/nope')).status).toBe(404)
  })

  it('openCardInfo registers a member once per Alipay user, with CRM-issued numbers', async () => {
    const claim = {
      alipayUserId: '2088000000000001',
      name: '张三',
      mobile: '13800138000',
      templateId: TEMPLATE,
    }
    const first = await call('/card/openCardInfo', claim)
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ bizCardNo: 'CRM00000001', point: 100, level: 'SILVER' })
    // A retried claim must find the same member, not register a second one.
    const again = await call('/card/openCardInfo', claim)
    expect(again.body.bizCardNo).toBe('CRM00000001')
    const other = await call('/card/openCardInfo', { alipayUserId: '2088000000000002' })
    expect(other.body.bizCardNo).toBe('CRM00000002')
    // And by card number (kaguan asking about an existing member):
    const lookup = await call('/card/openCardInfo', {
      alipayUserId: '2088000000000001',
      bizCardNo: 'CRM00000001',
    })
    expect(lookup.body).toMatchObject({ bizCardNo: 'CRM00000001', point: 100 })
    const unknown = await call('/card/openCardInfo', {
      alipayUserId: '2088000000000001',
      bizCardNo: 'CRM99999999',
    })
    expect(unknown.status).toBe(404)
    expect(crm.requests.filter((r) => r.path === '/card/openCardInfo')).toHaveLength(5)
    expect(crm.requests[0]?.body).toEqual(claim)
  })

  it('persists members to the data file with an atomic write (no temp files left)', () => {
    const saved = JSON.parse(readFileSync(dataFile, 'utf8')) as {
      members: Array<{ bizCardNo: string }>
    }
    expect(saved.members.map((m) => m.bizCardNo)).toEqual(['CRM00000001', 'CRM00000002'])
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('cardChange ADD/DEL records the Alipay card idempotently and answers true', async () => {
    const add = {
      type: 'ADD',
      templateId: TEMPLATE,
      alipayUserId: '2088000000000001',
      bizCardNo: 'CRM00000001',
      alipayCardNo: '20240101000000000001',
    }
    expect((await call('/card/cardChange', add)).body).toBe(true)
    expect((await call('/card/cardChange', add)).body).toBe(true)
    const members = (await (await fetch(crm.url + '/api/members')).json()) as {
      members: Array<Record<string, unknown>>
    }
    expect(members.members[0]).toMatchObject({
      alipayCardNo: '20240101000000000001',
      cardStatus: 'ACTIVE',
    })
    expect(members.members).toHaveLength(2)

    const del = { ...add, type: 'DEL', bizCardNo: 'CRM00000002', alipayUserId: '2088000000000002' }
    expect((await call('/card/cardChange', del)).body).toBe(true)
    expect((await call('/card/cardChange', del)).body).toBe(true)
    const after = (await (await fetch(crm.url + '/api/members')).json()) as {
      members: Array<Record<string, unknown>>
    }
    expect(after.members[1]).toMatchObject({ cardStatus: 'DELETED' })
  })

  it('mdCodeChange issues a short-lived numeric code', async () => {
    const before = Date.now()
    const { status, body } = await call('/card/mdCodeChange', {
      appId: '2021000000000001',
      templateId: TEMPLATE,
      alipayUserId: '2088000000000001',
      expireTime: 120,
    })
    expect(status).toBe(200)
    expect(body.alipayUserId).toBe('2088000000000001')
    expect(body.codeValue).toMatch(/^88\d{16}$/)
    // codeExpire is China time (UTC+8): convert back and check it is ~120 s ahead.
    const expire = Date.parse(String(body.codeExpire).replace(' ', 'T') + '+08:00')
    expect(expire - before).toBeGreaterThan(110_000)
    expect(expire - before).toBeLessThan(130_000)
    const unknown = await call('/card/mdCodeChange', {
      appId: 'a',
      templateId: TEMPLATE,
      alipayUserId: '2088999999999999',
    })
    expect(unknown.status).toBe(404)
  })

  it('refuses a wrong token and does not record the request', async () => {
    const before = crm.requests.length
    expect((await call('/card/openCardInfo', { alipayUserId: '2088' }, 'wrong')).status).toBe(401)
    expect(crm.requests.length).toBe(before)
  })

  async function submit(fields: Record<string, string>) {
    const response = await fetch(crm.url + '/members/update', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    })
    expect(response.status).toBe(303)
    const page = await fetch(crm.url + (response.headers.get('location') ?? ''))
    return page.text()
  }

  it('the page lists members and its form pushes a signed /card/update to kaguan', async () => {
    const page = await (await fetch(crm.url + '/')).text()
    expect(page).toContain('<html lang="zh-CN">')
    expect(page).toContain('CRM00000001')
    expect(page).toContain('138****8000')
    expect(page).not.toContain('13800138000')

    const html = await submit({
      bizCardNo: 'CRM00000001',
      point: '250',
      level: '金卡会员',
      changeReason: '生日礼',
    })
    const last = core.calls.at(-1)
    expect(last).toMatchObject({ path: '/card/update', signatureValid: true })
    expect(last?.params).toMatchObject({
      templateId: TEMPLATE,
      bizCardNo: 'CRM00000001',
      point: '250',
      level: '金卡会员',
      changeReason: '生日礼',
    })
    expect(last?.params.nonce).toMatch(/^[0-9a-f]{32}$/)
    expect(html).toContain('OK：CRM00000001 已同步到卡管')
    expect(html).toMatch(/<td class="num">250<\/td>/)
  })

  it("shows kaguan's FAIL with its errmsg", async () => {
    const html = await submit({
      bizCardNo: 'CRM00000001',
      point: '999999',
      level: '金卡会员',
      changeReason: 'x',
    })
    expect(html).toContain('FAIL：积分超出上限（POINT_TOO_LARGE）')
  })

  it('does not call kaguan for bad input or a member without a card', async () => {
    const before = core.calls.length
    expect(
      await submit({ bizCardNo: 'CRM00000001', point: '-5', level: '', changeReason: 'x' }),
    ).toContain('积分必须是非负整数')
    await call('/card/openCardInfo', { alipayUserId: '2088000000000003' })
    expect(
      await submit({ bizCardNo: 'CRM00000003', point: '5', level: '', changeReason: 'x' }),
    ).toContain('未开卡')
    expect(core.calls.length).toBe(before)
  })

  it('escapes member data in the page', async () => {
    await call('/card/openCardInfo', {
      alipayUserId: '2088000000000004',
      name: '<script>x</script>',
    })
    const page = await (await fetch(crm.url + '/')).text()
    expect(page).not.toContain('<script>x</script>')
    expect(page).toContain('&lt;script&gt;x&lt;/script&gt;')
  })
})

describe('sample CRM with kaguan unreachable', () => {
  it('keeps the local change and reports the sync failure', async () => {
    const core = await startFakeCore()
    const goneUrl = core.url
    core.server.closeAllConnections()
    await new Promise((resolve) => core.server.close(resolve))
    const crm = await startSampleCrm({
      port: 0,
      token: TOKEN,
      privateKey: keys.privateKey,
      kaguanCoreUrl: goneUrl,
    })
    try {
      const headers = { 'content-type': 'application/json', token: TOKEN }
      await fetch(crm.url + '/card/openCardInfo', {
        method: 'POST',
        headers,
        body: JSON.stringify({ alipayUserId: '2088000000000001', templateId: TEMPLATE }),
      })
      const response = await fetch(crm.url + '/members/update', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'bizCardNo=CRM00000001&point=7&level=&changeReason=x',
        redirect: 'manual',
      })
      const html = await (await fetch(crm.url + (response.headers.get('location') ?? ''))).text()
      expect(html).toContain('同步卡管失败')
      expect(html).toMatch(/<td class="num">7<\/td>/)
    } finally {
      await crm.close()
    }
  })
})

describe('sample CRM levels', () => {
  const open = async (crm: SampleCrm, alipayUserId: string) => {
    const res = await fetch(`${crm.url}/card/openCardInfo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', token: TOKEN },
      body: JSON.stringify({ alipayUserId, templateId: TEMPLATE }),
    })
    return (await res.json()) as Record<string, unknown>
  }

  it("answers the first of the template's level codes it was given, and no level for none", async () => {
    const withLevels = await startSampleCrm({
      port: 0,
      token: TOKEN,
      privateKey: keys.privateKey,
      kaguanCoreUrl: 'http://127.0.0.1:1',
      levels: [{ code: 'V1', name: '普通会员' }, { code: 'V2' }],
    })
    const without = await startSampleCrm({
      port: 0,
      token: TOKEN,
      privateKey: keys.privateKey,
      kaguanCoreUrl: 'http://127.0.0.1:1',
      levels: [],
    })
    try {
      expect((await open(withLevels, '2088000000000101')).level).toBe('V1')
      const page = await (await fetch(`${withLevels.url}/`)).text()
      expect(page).toContain('<option value="V2">V2</option>')
      expect(page).toContain('普通会员')
      const answer = await open(without, '2088000000000102')
      expect(answer.bizCardNo).toBeTruthy()
      expect('level' in answer).toBe(false)
    } finally {
      await withLevels.close()
      await without.close()
    }
  })
})
