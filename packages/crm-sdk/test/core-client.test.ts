import type { IncomingMessage, Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCoreClient, CrmSdkError, verifyParams } from '../src/index.js'
import { testKeys } from './fixtures.js'
import { close, listen } from './http-helpers.js'

interface Received {
  path: string
  contentType: string
  params: Record<string, string>
}

/** A stand-in for kaguan core: verifies the signature, answers FAIL for bizCardNo "UNKNOWN". */
async function readParams(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  return (req.headers['content-type'] ?? '').startsWith('application/json')
    ? (JSON.parse(text) as Record<string, string>)
    : Object.fromEntries(new URLSearchParams(text))
}

describe('createCoreClient', () => {
  const received: Received[] = []
  let server: Server
  let url: string

  beforeAll(async () => {
    ;({ server, url } = await listen((req, res) => {
      void readParams(req).then((params) => {
        received.push({
          path: req.url ?? '',
          contentType: req.headers['content-type'] ?? '',
          params,
        })
        res.setHeader('content-type', 'application/json')
        if (req.url?.startsWith('/broken')) {
          return res.writeHead(502).end('<html>bad gateway</html>')
        }
        if (!verifyParams(params, testKeys.publicKey)) {
          return res
            .writeHead(401)
            .end(JSON.stringify({ error: { code: 'CRM_SIGNATURE_INVALID', message: 'bad sign' } }))
        }
        if (params.bizCardNo === 'UNKNOWN') {
          return res.end(
            JSON.stringify({ status: 'FAIL', errmsg: '会员卡不存在', errcode: 'CARD_NOT_FOUND' }),
          )
        }
        res.end(JSON.stringify({ status: 'OK' }))
      })
    }))
  })
  afterAll(() => close(server))

  const update = {
    templateId: '20200227000000002181302000300947',
    bizCardNo: 'CRM00000001',
    point: 120,
    changeReason: '消费',
    level: 'VIP1',
  }

  it('sends a signed JSON /card/update with timestamp and nonce, all values strings', async () => {
    const client = createCoreClient({ baseUrl: url + '/', privateKey: testKeys.privateKey })
    await expect(client.updateCard(update)).resolves.toEqual({ status: 'OK' })
    const last = received.at(-1)
    expect(last?.path).toBe('/card/update')
    expect(last?.contentType).toMatch(/^application\/json/)
    expect(last?.params).toMatchObject({ point: '120', level: 'VIP1', changeReason: '消费' })
    expect(last?.params.timestamp).toMatch(/^\d{13}$/)
    expect(last?.params.nonce).toMatch(/^[0-9a-f]{32}$/)
    expect(last?.params).not.toHaveProperty('balance')
  })

  it('sends form bodies when asked, and can leave out the replay guard', async () => {
    const client = createCoreClient({
      baseUrl: url,
      privateKey: testKeys.privateKey,
      encoding: 'form',
      replayGuard: false,
    })
    const result = await client.changeTemplate({
      templateId: '1',
      bizCardNo: 'CRM00000001',
      targetTemplateId: '2',
      changeReason: '升级',
    })
    expect(result).toEqual({ status: 'OK' })
    const last = received.at(-1)
    expect(last?.path).toBe('/card/changeTemplate')
    expect(last?.contentType).toMatch(/^application\/x-www-form-urlencoded/)
    expect(last?.params).not.toHaveProperty('nonce')
    expect(last?.params.changeReason).toBe('升级')
  })

  it('returns FAIL as a result, with errmsg and errcode', async () => {
    const client = createCoreClient({ baseUrl: url, privateKey: testKeys.privateKey })
    await expect(client.updateCard({ ...update, bizCardNo: 'UNKNOWN' })).resolves.toEqual({
      status: 'FAIL',
      errmsg: '会员卡不存在',
      errcode: 'CARD_NOT_FOUND',
    })
  })

  it('maps a structured error body (wrong key → 401) to FAIL', async () => {
    const other = (await import('../src/index.js')).generateKeyPair()
    const client = createCoreClient({ baseUrl: url, privateKey: other.privateKey })
    await expect(client.updateCard(update)).resolves.toEqual({
      status: 'FAIL',
      errmsg: 'bad sign',
      errcode: 'CRM_SIGNATURE_INVALID',
    })
  })

  it('throws a typed, retryable error when core is unreachable', async () => {
    const gone = await listen((_req, res) => res.end())
    await close(gone.server)
    const client = createCoreClient({ baseUrl: gone.url, privateKey: testKeys.privateKey })
    const error = await client.updateCard(update).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(CrmSdkError)
    expect(error).toMatchObject({ code: 'CRM_SDK_NETWORK', retryable: true })
  })

  it('throws a timeout error when core hangs', async () => {
    const hanging = await listen(() => {})
    const client = createCoreClient({
      baseUrl: hanging.url,
      privateKey: testKeys.privateKey,
      timeoutMs: 200,
    })
    const error = await client.updateCard(update).catch((err: unknown) => err)
    expect(error).toMatchObject({ code: 'CRM_SDK_TIMEOUT', retryable: true })
    await close(hanging.server)
  })

  it('throws on a non-contract answer, keeping the HTTP status', async () => {
    const client = createCoreClient({ baseUrl: url + '/broken', privateKey: testKeys.privateKey })
    const error = await client.updateCard(update).catch((err: unknown) => err)
    expect(error).toMatchObject({ code: 'CRM_SDK_HTTP_STATUS', httpStatus: 502, retryable: true })
  })

  it('rejects bad input before sending, naming the field', async () => {
    const client = createCoreClient({ baseUrl: url, privateKey: testKeys.privateKey })
    const before = received.length
    const error = await client.updateCard({ ...update, point: '12.5' }).catch((err: unknown) => err)
    expect(error).toMatchObject({ code: 'CRM_SDK_INPUT_INVALID', field: 'point' })
    const missing = await client
      .changeTemplate({ templateId: '1', bizCardNo: '', targetTemplateId: '2', changeReason: 'x' })
      .catch((err: unknown) => err)
    expect(missing).toMatchObject({ field: 'bizCardNo' })
    expect(received.length).toBe(before)
  })
})
