import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCrmPort } from './crm-client.js'

const { cardChange, openCardInfo } = createCrmPort()

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler)
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`

describe('CRM client and redirects', () => {
  const seen: IncomingMessage[] = []
  let other: Server
  let crm: Server
  beforeAll(async () => {
    other = await listen((req, res) => {
      seen.push(req)
      res.end('true')
    })
    crm = await listen((_req, res) => {
      res.writeHead(302, { location: `${urlOf(other)}/steal` }).end()
    })
  })
  afterAll(() => {
    other.close()
    crm.close()
  })

  it('does not follow a redirect, so the token never reaches the other origin', async () => {
    const endpoint = { baseUrl: urlOf(crm), token: 'secret-token' }
    const error = await openCardInfo(endpoint, { alipayUserId: '2088000000000001' }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({
      code: 'CRM_REDIRECTED',
      retryable: false,
      details: { location: `${urlOf(other)}/steal` },
    })
    expect((error as Error).message).toContain(`${urlOf(other)}/steal`)
    expect(seen).toHaveLength(0)
  })

  it('refuses a metadata address at call time, before any request', async () => {
    await expect(
      cardChange(
        { baseUrl: 'http://169.254.169.254', token: 't', timeoutMs: 500 },
        { type: 'ADD', templateId: 'T', alipayUserId: '2088', bizCardNo: 'B', alipayCardNo: 'A' },
      ),
    ).rejects.toMatchObject({ code: 'ADDRESS_FORBIDDEN', retryable: false })
  })
})

describe('openCardInfo answers', () => {
  let answer = ''
  let crm: Server
  beforeAll(async () => {
    crm = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer)
    })
  })
  afterAll(() => {
    crm.close()
  })
  const ask = () =>
    openCardInfo({ baseUrl: urlOf(crm), token: 't' }, { alipayUserId: '2088000000000001' })

  it('takes cardNo as the card number when bizCardNo is missing', async () => {
    answer = JSON.stringify({ cardNo: 'CRM0042', point: '7' })
    expect(await ask()).toMatchObject({ bizCardNo: 'CRM0042', cardNo: 'CRM0042', point: 7 })
  })

  it('prefers bizCardNo and keeps cardNo as the display number', async () => {
    answer = JSON.stringify({ bizCardNo: 'CRM0042', cardNo: '0042', point: 0 })
    expect(await ask()).toMatchObject({ bizCardNo: 'CRM0042', cardNo: '0042' })
  })

  it('refuses an answer with neither name, naming bizCardNo', async () => {
    answer = JSON.stringify({ point: 1 })
    await expect(ask()).rejects.toMatchObject({
      code: 'CRM_BAD_ANSWER',
      details: { field: 'bizCardNo' },
    })
  })
})
