import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  AlipayError,
  AlipayErrorCode,
  buildSignContent,
  createAlipayClient,
  verifyContent,
  type AlipayClient,
} from '../src/index.js'
import { startFakeGateway, type FakeGateway } from './helpers/fake-gateway.js'
import { alipayKeys, appKeys, testKeyPair } from './helpers/keys.js'

const strangerKeys = testKeyPair()
let gateway: FakeGateway
let client: AlipayClient

beforeAll(async () => {
  gateway = await startFakeGateway(strangerKeys.privateKey)
})
afterAll(() => gateway.close())
beforeEach(() => {
  gateway.seen.length = 0
  gateway.answer = (req) => ({ node: { code: '10000', msg: 'Success', method: req.query.method } })
  client = createAlipayClient({
    appId: '2021000000000001',
    privateKey: appKeys.privateKey,
    alipayPublicKey: alipayKeys.publicKeyBase64,
    gateway: gateway.url,
  })
})

async function failure(promise: Promise<unknown>): Promise<AlipayError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(AlipayError)
  return err as AlipayError
}

/** All params of the last request, query and urlencoded body merged, as the gateway verifies. */
function lastParams(): Record<string, string> {
  const seen = gateway.seen.at(-1)
  if (!seen) {
    throw new Error('no request')
  }
  return { ...seen.query, ...seen.form }
}

describe('createAlipayClient', () => {
  it('signs requests the way the gateway verifies them (RSA2 over the sorted params)', async () => {
    gateway.answer = () => ({ node: { code: '10000', msg: 'Success', template_id: 'T1' } })
    const result = await client.createCardTemplate(
      {
        request_id: 'r1',
        card_type: 'OUT_MEMBER_CARD',
        biz_no_suffix_len: '20',
        template_style_info: { card_show_name: '会员卡' },
      },
      { notifyUrl: 'https://m.example/notify' },
    )
    expect(result).toEqual({ template_id: 'T1' })
    const params = lastParams()
    expect(params.method).toBe('alipay.marketing.card.template.create')
    expect(params.notify_url).toBe('https://m.example/notify')
    expect(JSON.parse(params.biz_content ?? '')).toMatchObject({
      request_id: 'r1',
      template_style_info: { card_show_name: '会员卡' },
    })
    const { sign = '', ...rest } = params
    expect(verifyContent(buildSignContent(rest), sign, appKeys.publicKey)).toBe(true)
  })

  it('accepts a PKCS#1 private key given as bare base64', async () => {
    const pkcs1 = createAlipayClient({
      appId: '2021000000000001',
      privateKey: appKeys.privateKeyPkcs1Base64,
      alipayPublicKey: alipayKeys.publicKey,
      gateway: gateway.url,
    })
    await pkcs1.queryCard({ target_card_no: 'C1', target_card_no_type: 'BIZ_CARD' })
    const { sign = '', ...rest } = lastParams()
    expect(verifyContent(buildSignContent(rest), sign, appKeys.publicKey)).toBe(true)
  })

  it('refuses the app public key in place of the Alipay public key', () => {
    expect(() =>
      createAlipayClient({
        appId: 'a',
        privateKey: appKeys.privateKey,
        alipayPublicKey: appKeys.publicKey,
        gateway: gateway.url,
      }),
    ).toThrow(expect.objectContaining({ code: AlipayErrorCode.ConfigInvalid }))
  })

  it('refuses an unparseable key and a relative gateway', () => {
    expect(() =>
      createAlipayClient({
        appId: 'a',
        privateKey: 'not a key',
        alipayPublicKey: alipayKeys.publicKey,
        gateway: gateway.url,
      }),
    ).toThrow(expect.objectContaining({ code: AlipayErrorCode.KeyInvalid }))
    expect(() =>
      createAlipayClient({
        appId: 'a',
        privateKey: appKeys.privateKey,
        alipayPublicKey: alipayKeys.publicKey,
        gateway: '/gateway.do',
      }),
    ).toThrow(expect.objectContaining({ code: AlipayErrorCode.ConfigInvalid }))
  })
})

describe('per-call tokens', () => {
  it('passes auth_token and app_auth_token to card.open', async () => {
    gateway.answer = () => ({
      node: { code: '10000', msg: 'Success', card_info: { biz_card_no: 'B1' } },
    })
    const opened = await client.openCard(
      {
        out_serial_no: 's1',
        card_template_id: 'T1',
        card_user_info: { user_uni_id_type: 'UID', user_uni_id: '2088000000000001' },
        card_ext_info: { external_card_no: 'E1', point: '10' },
      },
      { authToken: 'user-token', appAuthToken: 'merchant-token' },
    )
    expect(opened.card_info.biz_card_no).toBe('B1')
    const seen = gateway.seen.at(-1)
    expect(seen?.query.auth_token).toBe('user-token')
    expect(seen?.query.app_auth_token).toBe('merchant-token')
  })

  it('passes auth_token to activateform.query and sends no empty app_auth_token', async () => {
    await client.queryActivateForm(
      { biz_type: 'MEMBER_CARD', template_id: 'T1', request_id: 'R1' },
      { authToken: 'user-token', appAuthToken: '' },
    )
    const params = lastParams()
    expect(params.auth_token).toBe('user-token')
    expect('app_auth_token' in params).toBe(false)
  })

  it('rejects card.open without a user token before any request', async () => {
    const err = await failure(client.openCard({} as never, {} as never))
    expect(err.code).toBe(AlipayErrorCode.ConfigInvalid)
    expect(gateway.seen).toHaveLength(0)
  })
})

describe('request shapes', () => {
  it('sends oauth.token params top-level, not in biz_content', async () => {
    gateway.answer = () => ({
      node: { code: '10000', msg: 'Success', access_token: 'AT', user_id: '2088000000000001' },
    })
    const token = await client.exchangeAuthCode('CODE1')
    expect(token.access_token).toBe('AT')
    const params = lastParams()
    expect(params.grant_type).toBe('authorization_code')
    expect(params.code).toBe('CODE1')
    expect(params.biz_content).toBeUndefined()
  })

  it('sends formtemplate fields as JSON strings', async () => {
    await client.setFormTemplate({
      template_id: 'T1',
      fields: {
        required: { common_fields: ['OPEN_FORM_FIELD_MOBILE'] },
        optional: '{"common_fields":["OPEN_FORM_FIELD_NAME"]}',
      },
    })
    const biz = JSON.parse(lastParams().biz_content ?? '') as {
      fields: { required: string; optional: string }
    }
    expect(biz.fields.required).toBe('{"common_fields":["OPEN_FORM_FIELD_MOBILE"]}')
    expect(biz.fields.optional).toBe('{"common_fields":["OPEN_FORM_FIELD_NAME"]}')
  })

  it('sends a POINT_REMIND card message with notify_info as a JSON string', async () => {
    const answer = await client.notifyCardMessage(
      {
        target_card_no: 'C1',
        target_card_no_type: 'BIZ_CARD',
        notify_type: 'POINT_REMIND',
        notify_info: JSON.stringify({ expired_point: '3', expired_time: '2026-12-10 00:00:00' }),
        notify_no: 'R1',
        occur_time: '2026-12-07 10:00:00',
      },
      { appAuthToken: 'merchant-token' },
    )
    expect(answer).toMatchObject({ method: 'alipay.marketing.card.message.notify' })
    const params = lastParams()
    expect(params.method).toBe('alipay.marketing.card.message.notify')
    expect(params.app_auth_token).toBe('merchant-token')
    const biz = JSON.parse(params.biz_content ?? '') as Record<string, string>
    expect(biz).toMatchObject({
      notify_type: 'POINT_REMIND',
      notify_no: 'R1',
      target_card_no: 'C1',
    })
    expect(JSON.parse(biz.notify_info!)).toEqual({
      expired_point: '3',
      expired_time: '2026-12-10 00:00:00',
    })
  })

  it('uploads an image as multipart with the file unsigned', async () => {
    gateway.answer = () => ({
      node: { code: '10000', msg: 'Success', image_id: 'IMG1', image_url: 'http://img/1' },
      escapeSlashes: true,
    })
    const uploaded = await client.uploadImage(
      { image_type: 'png', image_name: 'logo', content: Buffer.from('PNGDATA') },
      { appAuthToken: 'merchant-token' },
    )
    expect(uploaded).toEqual({ image_id: 'IMG1', image_url: 'http://img/1' })
    const seen = gateway.seen.at(-1)
    expect(seen?.contentType).toMatch(/^multipart\/form-data/)
    const body = seen?.rawBody.toString('latin1') ?? ''
    expect(body).toContain('name="image_content"')
    expect(body).toContain('PNGDATA')
    expect(seen?.query.app_auth_token).toBe('merchant-token')
  })
})

describe('error mapping', () => {
  it('turns 40004 into a non-retryable AlipayError with every field', async () => {
    gateway.answer = () => ({
      headers: { trace_id: 'TRACE-1' },
      node: {
        code: '40004',
        msg: 'Business Failed',
        sub_code: 'CARD_NOT_EXIST',
        sub_msg: '卡不存在',
      },
    })
    const err = await failure(
      client.queryCard({ target_card_no: 'C1', target_card_no_type: 'BIZ_CARD' }),
    )
    expect(err).toMatchObject({
      code: '40004',
      msg: 'Business Failed',
      subCode: 'CARD_NOT_EXIST',
      subMsg: '卡不存在',
      traceId: 'TRACE-1',
      method: 'alipay.marketing.card.query',
      httpStatus: 200,
      retryable: false,
    })
  })

  it.each([
    ['20000', 'isp.unknow-error', true],
    ['40004', 'isp.unknow-error', true],
    ['40004', 'SYSTEM_ERROR', true],
    ['20001', 'aop.invalid-auth-token', false],
    ['40001', 'isv.missing-signature', false],
    ['40002', 'isv.invalid-parameter', false],
    ['40006', 'isv.insufficient-isv-permissions', false],
  ])('gateway code %s / %s is retryable: %s', async (code, subCode, retryable) => {
    gateway.answer = () => ({ node: { code, msg: 'x', sub_code: subCode, sub_msg: 'y' } })
    const err = await failure(
      client.updateCard({
        target_card_no: 'C',
        target_card_no_type: 'BIZ_CARD',
        occur_time: '2026-01-01 00:00:00',
        card_info: { point: '1' },
      }),
    )
    expect(err.code).toBe(code)
    expect(err.subCode).toBe(subCode)
    expect(err.retryable).toBe(retryable)
  })

  it('reads an unsigned error_response (oauth failures come that way)', async () => {
    gateway.answer = () => ({
      nodeKey: 'error_response',
      sign: 'none',
      node: {
        code: '40002',
        msg: 'Invalid Arguments',
        sub_code: 'isv.code-invalid',
        sub_msg: '授权码code无效',
      },
    })
    const err = await failure(client.exchangeAuthCode('used'))
    expect(err).toMatchObject({ code: '40002', subCode: 'isv.code-invalid', retryable: false })
  })

  it('maps HTTP 502 to a retryable error and HTTP 400 to a final one', async () => {
    gateway.answer = () => ({ status: 502, body: 'Bad Gateway' })
    const bad = await failure(client.queryToolPoints({ activity_account: 'A', user_id: 'U' }))
    expect(bad).toMatchObject({ code: AlipayErrorCode.Http, httpStatus: 502, retryable: true })
    gateway.answer = () => ({ status: 400, body: 'nope' })
    const final = await failure(client.queryToolPoints({ activity_account: 'A', user_id: 'U' }))
    expect(final).toMatchObject({ code: AlipayErrorCode.Http, httpStatus: 400, retryable: false })
  })

  it('maps a timeout (per call and per client) to a retryable ALIPAY_TIMEOUT', async () => {
    // undici checks timeouts on a coarse (about 1 s) timer, hence the wide margin.
    gateway.answer = () => ({ node: { code: '10000', msg: 'Success' }, delayMs: 2500 })
    const perCall = await failure(
      client.queryToolPoints({ activity_account: 'A', user_id: 'U' }, { timeoutMs: 100 }),
    )
    expect(perCall).toMatchObject({
      code: AlipayErrorCode.Timeout,
      retryable: true,
      method: 'koubei.marketing.tool.points.query',
    })
    const slowClient = createAlipayClient({
      appId: 'a',
      privateKey: appKeys.privateKey,
      alipayPublicKey: alipayKeys.publicKey,
      gateway: gateway.url,
      timeoutMs: 100,
    })
    const perClient = await failure(
      slowClient.queryToolPoints({ activity_account: 'A', user_id: 'U' }),
    )
    expect(perClient.code).toBe(AlipayErrorCode.Timeout)
    // A longer per-call timeout overrides the client's.
    await expect(
      slowClient.queryToolPoints({ activity_account: 'A', user_id: 'U' }, { timeoutMs: 8000 }),
    ).resolves.toBeDefined()
  })

  it('maps a refused connection to a retryable ALIPAY_NETWORK_ERROR', async () => {
    const closed = await startFakeGateway()
    await closed.close()
    const offline = createAlipayClient({
      appId: 'a',
      privateKey: appKeys.privateKey,
      alipayPublicKey: alipayKeys.publicKey,
      gateway: closed.url,
    })
    const err = await failure(
      offline.queryCard({ target_card_no: 'C', target_card_no_type: 'BIZ_CARD' }),
    )
    expect(err).toMatchObject({ code: AlipayErrorCode.Network, retryable: true })
  })

  it('maps a non-JSON 200 to a final ALIPAY_BAD_RESPONSE', async () => {
    gateway.answer = () => ({ body: '<html>proxy</html>' })
    const err = await failure(
      client.queryCard({ target_card_no: 'C', target_card_no_type: 'BIZ_CARD' }),
    )
    expect(err).toMatchObject({ code: AlipayErrorCode.BadResponse, retryable: false })
  })
})

describe('response signature', () => {
  it.each(['tampered', 'wrong-key', 'none'] as const)(
    'rejects a %s signature on a success',
    async (sign) => {
      gateway.answer = () => ({ node: { code: '10000', msg: 'Success', point_log_no: 'P1' }, sign })
      const err = await failure(
        client.updateToolPoints({
          req_id: 'r',
          user_id: 'u',
          activity_account: 'a',
          trans_type: 'DEPOSIT',
          trans_amount: '1',
        }),
      )
      expect(err).toMatchObject({
        code: AlipayErrorCode.ResponseSignatureInvalid,
        retryable: false,
        method: 'koubei.marketing.tool.points.update',
      })
      expect(err.raw).toContain('P1')
    },
  )

  it('verifies a body whose JSON escapes slashes', async () => {
    gateway.answer = () => ({
      node: { code: '10000', msg: 'Success', apply_card_url: 'https://render.alipay.com/p/x' },
      escapeSlashes: true,
    })
    const result = await client.applyActivateUrl({ template_id: 'T1' })
    expect(result.apply_card_url).toBe('https://render.alipay.com/p/x')
  })
})

describe('observe', () => {
  it('reports each call with its method, result and duration, and survives a throwing observer', async () => {
    const seen: { method: string; result: string; ms: number }[] = []
    const observed = createAlipayClient({
      appId: '2021000000000001',
      privateKey: appKeys.privateKey,
      alipayPublicKey: alipayKeys.publicKeyBase64,
      gateway: gateway.url,
      observe: (call) => {
        seen.push(call)
        throw new Error('observer bug')
      },
    })
    await observed.queryCard({ target_card_no: 'C1', target_card_no_type: 'BIZ_CARD' })
    gateway.answer = () => ({ node: { code: '40004', msg: 'Business Failed', sub_code: 'X' } })
    await failure(observed.queryCard({ target_card_no: 'C1', target_card_no_type: 'BIZ_CARD' }))
    expect(seen.map(({ method, result }) => ({ method, result }))).toEqual([
      { method: 'alipay.marketing.card.query', result: 'success' },
      { method: 'alipay.marketing.card.query', result: '40004' },
    ])
    expect(seen.every((s) => s.ms >= 0)).toBe(true)
  })
})
