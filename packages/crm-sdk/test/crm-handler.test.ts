import type { Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createCrmHandler,
  CrmHandlerError,
  formatChinaTime,
  type CardChangeRequest,
  type MdCodeChangeRequest,
  type OpenCardInfoRequest,
} from '../src/index.js'
import { close, listen } from './http-helpers.js'

const TOKEN = 'crm-token-for-tests'

describe('createCrmHandler over HTTP', () => {
  const calls: Array<OpenCardInfoRequest | CardChangeRequest | MdCodeChangeRequest> = []
  const seen: Array<{ path: string; body: unknown }> = []
  const errors: unknown[] = []
  let server: Server
  let url: string

  beforeAll(async () => {
    ;({ server, url } = await listen(
      createCrmHandler({
        token: TOKEN,
        maxBodyBytes: 2048,
        onRequest: (event) => seen.push(event),
        onError: (error) => errors.push(error),
        openCardInfo: (input) => {
          calls.push(input)
          if (input.bizCardNo === 'NOPE') {
            return Promise.reject(new CrmHandlerError(404, 'MEMBER_NOT_FOUND', 'no such member'))
          }
          if (input.outString === 'boom') {
            return Promise.reject(new Error('db down'))
          }
          return Promise.resolve({
            bizCardNo: input.bizCardNo ?? 'CRM00000001',
            point: '10',
            level: 'VIP1',
          })
        },
        cardChange: (input) => {
          calls.push(input)
          return Promise.resolve()
        },
        mdCodeChange: (input) => {
          calls.push(input)
          return Promise.resolve({
            codeValue: '881234567890123456',
            codeExpire: new Date(Date.UTC(2024, 0, 1, 16, 0, input.expireTime)),
          })
        },
      }),
    ))
  })
  afterAll(() => close(server))

  async function post(path: string, body: unknown, token: string | null = TOKEN) {
    const response = await fetch(url + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === null ? {} : { token }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as unknown }
  }

  it('answers openCardInfo with the callback result and passes typed input', async () => {
    const { status, body } = await post('/card/openCardInfo', {
      alipayUserId: '2088102146225135',
      name: '张三',
      mobile: 13800138000,
      gender: null,
      templateId: 'T1',
    })
    expect(status).toBe(200)
    expect(body).toEqual({ bizCardNo: 'CRM00000001', point: '10', level: 'VIP1' })
    expect(calls.at(-1)).toEqual({
      alipayUserId: '2088102146225135',
      name: '张三',
      mobile: '13800138000',
      templateId: 'T1',
    })
    expect(seen.at(-1)?.path).toBe('/card/openCardInfo')
  })

  it('accepts the seed\'s curl example ({"alipayUserId":"2088"})', async () => {
    const { status, body } = await post('/card/openCardInfo', '{"alipayUserId":"2088"}')
    expect(status).toBe(200)
    expect(body).toMatchObject({ bizCardNo: 'CRM00000001' })
  })

  it('answers cardChange with true', async () => {
    const change = {
      type: 'ADD',
      templateId: 'T1',
      alipayUserId: '2088102146225135',
      bizCardNo: 'CRM00000001',
      alipayCardNo: '20240101000000001',
    }
    const { status, body } = await post('/card/cardChange', change)
    expect(status).toBe(200)
    expect(body).toBe(true)
    expect(calls.at(-1)).toEqual(change)
  })

  it('answers mdCodeChange with codeExpire in China time and the user echoed', async () => {
    const { status, body } = await post('/card/mdCodeChange', {
      appId: '2021000000000001',
      templateId: 'T1',
      alipayUserId: '2088102146225135',
      expireTime: '60',
    })
    expect(status).toBe(200)
    expect(body).toEqual({
      alipayUserId: '2088102146225135',
      codeValue: '881234567890123456',
      codeExpire: '2024-01-02 00:01:00',
    })
    expect(calls.at(-1)).toMatchObject({ expireTime: 60 })
  })

  it('refuses a wrong token with 401 and does not call the merchant', async () => {
    const before = calls.length
    const wrong = await post('/card/openCardInfo', { alipayUserId: '2088' }, 'crm-token-for-tesTS')
    expect(wrong.status).toBe(401)
    expect(wrong.body).toMatchObject({ status: 'FAIL', errcode: 'TOKEN_INVALID' })
    expect(calls.length).toBe(before)
  })

  it('refuses a token of another length and a missing token with 401', async () => {
    expect((await post('/card/cardChange', {}, 'short')).status).toBe(401)
    expect((await post('/card/cardChange', {}, TOKEN + TOKEN)).status).toBe(401)
    expect((await post('/card/cardChange', {}, null)).status).toBe(401)
  })

  it('answers 400 naming alipayUserId when it is missing or malformed', async () => {
    const missing = await post('/card/openCardInfo', { name: '张三' })
    expect(missing.status).toBe(400)
    expect(missing.body).toMatchObject({ errcode: 'FIELD_INVALID', field: 'alipayUserId' })
    expect(JSON.stringify(missing.body)).toContain('alipayUserId is required')
    const bad = await post('/card/openCardInfo', { alipayUserId: 'not an id!' })
    expect(bad.body).toMatchObject({ field: 'alipayUserId' })
  })

  it('takes an open_id as alipayUserId (OpenID apps), with alipayOpenId beside it', async () => {
    const openId = '074a1cctg1lelxke4xqc0zgndid0nxi95b5lsnpazwyoco5'
    const { status } = await post('/card/openCardInfo', {
      alipayUserId: openId,
      alipayOpenId: openId,
      name: '张三',
    })
    expect(status).toBe(200)
    const bad = await post('/card/openCardInfo', { alipayUserId: openId, alipayOpenId: 'a b' })
    expect(bad.body).toMatchObject({ field: 'alipayOpenId' })
  })

  it('answers 400 naming the field for a bad cardChange type or a bad expireTime', async () => {
    const type = await post('/card/cardChange', {
      type: 'UPDATE',
      templateId: 'T1',
      alipayUserId: '2088',
      bizCardNo: 'C',
      alipayCardNo: 'A',
    })
    expect(type).toMatchObject({ status: 400, body: { field: 'type' } })
    const expire = await post('/card/mdCodeChange', {
      appId: 'a',
      templateId: 'T1',
      alipayUserId: '2088',
      expireTime: 'soon',
    })
    expect(expire).toMatchObject({ status: 400, body: { field: 'expireTime' } })
  })

  it('answers 400 for a body that is not a JSON object, 413 for a too-large one', async () => {
    expect((await post('/card/openCardInfo', '[1,2]')).status).toBe(400)
    expect((await post('/card/openCardInfo', '{not json')).status).toBe(400)
    const big = await post('/card/openCardInfo', { alipayUserId: '2088', name: 'x'.repeat(4096) })
    expect(big.status).toBe(413)
  })

  it('turns CrmHandlerError into its status and a thrown error into a 500 without details', async () => {
    const refused = await post('/card/openCardInfo', { alipayUserId: '2088', bizCardNo: 'NOPE' })
    expect(refused).toMatchObject({ status: 404, body: { errcode: 'MEMBER_NOT_FOUND' } })
    const crashed = await post('/card/openCardInfo', { alipayUserId: '2088', outString: 'boom' })
    expect(crashed.status).toBe(500)
    expect(JSON.stringify(crashed.body)).not.toContain('db down')
    expect(errors.at(-1)).toBeInstanceOf(Error)
  })

  it('answers 404 elsewhere and 405 for GET on an endpoint', async () => {
    expect((await post('/card/update', {})).status).toBe(404)
    const get = await fetch(url + '/card/openCardInfo', { headers: { token: TOKEN } })
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
  })
})

describe('createCrmHandler configuration', () => {
  it('refuses an empty token', () => {
    expect(() =>
      createCrmHandler({
        token: '',
        openCardInfo: () => Promise.resolve({ bizCardNo: 'x', point: 0 }),
        cardChange: () => Promise.resolve(),
        mdCodeChange: () => Promise.resolve({ codeValue: 'x', codeExpire: new Date() }),
      }),
    ).toThrow(TypeError)
  })
})

describe('formatChinaTime', () => {
  it('formats in UTC+8 as yyyy-MM-dd HH:mm:ss', () => {
    expect(formatChinaTime(new Date('2024-02-29T17:30:05.999Z'))).toBe('2024-03-01 01:30:05')
  })
})
