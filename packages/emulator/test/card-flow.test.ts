import { AlipayFormData } from 'alipay-sdk'
import type { AlipaySdk } from 'alipay-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '../src/index.js'
import { drive, registerApp, startMerchant, startTestEmulator, tinyPng } from './helpers.js'

type Result = Record<string, unknown>

describe('member-card methods through the official alipay-sdk (validateSign on)', () => {
  let emulator: RunningEmulator
  let merchant: Awaited<ReturnType<typeof startMerchant>>
  let sdk: AlipaySdk
  let appId: string
  let logoId: string
  let templateId: string
  let applyCardUrl: string
  let userId: string

  const exec = (method: string, params: Record<string, unknown> = {}): Promise<Result> =>
    sdk.exec(method, params, { validateSign: true }) as Promise<Result>

  beforeAll(async () => {
    emulator = await startTestEmulator()
    merchant = await startMerchant((req, res) => {
      res.end(req.method === 'GET' ? 'callback ok' : 'success')
    })
    const registered = await registerApp(emulator, {
      callbackUrls: [`${merchant.url}/aliCallback`],
      gatewayUrl: `${merchant.url}/gateway`,
    })
    sdk = registered.sdk
    appId = registered.appId
    userId = (
      await drive<{ userId: string }>(emulator, '/__emulator/users', {
        name: '张三',
        mobile: '13800000000',
      })
    ).body.userId
  })
  afterAll(async () => {
    await emulator.close()
    await merchant.close()
  })

  it('uploads an image as multipart and answers image_id and image_url', async () => {
    const form = new AlipayFormData()
    form.addField('imageType', 'png')
    form.addField('imageName', 'logo')
    form.addFile('imageContent', 'logo.png', tinyPng)
    const result = (await sdk.exec(
      'alipay.offline.material.image.upload',
      {},
      { formData: form, validateSign: true },
    )) as Result
    expect(result.code).toBe('10000')
    expect(result.image_id).toMatch(/^[\w-]{32}$/)
    logoId = result.image_id as string
    const image = await fetch(String(result.image_url))
    expect(Buffer.from(await image.arrayBuffer())).toEqual(tinyPng)
  })

  it('creates a template only with uploaded image ids, idempotently by request_id', async () => {
    const bizContent = {
      request_id: 'req-template-1',
      card_type: 'OUT_MEMBER_CARD',
      biz_no_prefix: 'KG',
      biz_no_suffix_len: '12',
      write_off_type: 'qrcode',
      template_style_info: {
        card_show_name: '卡管会员卡',
        logo_id: logoId,
        background_id: logoId,
        bg_color: 'rgb(55,112,179)',
      },
      column_info_list: [
        { code: 'POINT', title: '积分', operate_type: 'staticinfo' },
        { code: 'LEVEL', title: '等级' },
      ],
      card_level_conf: [
        { level: 'VIP1', level_show_name: '白银' },
        { level: 'VIP2', level_show_name: '黄金' },
      ],
      shop_ids: ['shop-1'],
    }
    const created = await exec('alipay.marketing.card.template.create', {
      bizContent,
      notifyUrl: `${merchant.url}/card-notify`,
    })
    expect(created.code).toBe('10000')
    expect(created.template_id).toMatch(/^\d{32}$/)
    templateId = created.template_id as string
    const again = await exec('alipay.marketing.card.template.create', { bizContent })
    expect(again.template_id).toBe(templateId)

    const bad = await exec('alipay.marketing.card.template.create', {
      bizContent: {
        ...bizContent,
        request_id: 'req-template-2',
        template_style_info: { logo_id: 'not-uploaded' },
      },
    })
    expect(bad).toMatchObject({ code: '40004', sub_code: 'INVALID_PARAMETER' })
    expect(String(bad.sub_msg)).toContain('logo_id')
  })

  it('modifies (shop_ids only grow) and queries the template', async () => {
    const modified = await exec('alipay.marketing.card.template.modify', {
      bizContent: { request_id: 'req-mod-1', template_id: templateId, shop_ids: ['shop-2'] },
    })
    expect(modified.code).toBe('10000')
    const queried = await exec('alipay.marketing.card.template.query', {
      bizContent: { template_id: templateId },
    })
    expect(queried.code).toBe('10000')
    expect(queried.shop_ids).toEqual(['shop-1', 'shop-2'])
    expect(queried.card_type).toBe('OUT_MEMBER_CARD')
    expect(queried.card_level_confs).toHaveLength(2)
  })

  it('sets the form template (JSON-string fields as the v2 model sends) and rejects overlap', async () => {
    const set = await exec('alipay.marketing.card.formtemplate.set', {
      bizContent: {
        template_id: templateId,
        fields: {
          required: JSON.stringify({ common_fields: ['OPEN_FORM_FIELD_MOBILE'] }),
          optional: JSON.stringify({
            common_fields: ['OPEN_FORM_FIELD_NAME', 'OPEN_FORM_FIELD_GENDER'],
          }),
        },
      },
    })
    expect(set.code).toBe('10000')
    const overlap = await exec('alipay.marketing.card.formtemplate.set', {
      bizContent: {
        template_id: templateId,
        fields: {
          required: { common_fields: ['OPEN_FORM_FIELD_MOBILE'] },
          optional: { common_fields: ['OPEN_FORM_FIELD_MOBILE'] },
        },
      },
    })
    expect(overlap).toMatchObject({ code: '40004', sub_code: 'INVALID_PARAMETER' })
  })

  it('applies for a URL-encoded claim link', async () => {
    const result = await exec('alipay.marketing.card.activateurl.apply', {
      bizContent: {
        template_id: templateId,
        out_string: 'channel-A',
        callback: `${merchant.url}/aliCallback`,
      },
    })
    expect(result.code).toBe('10000')
    applyCardUrl = result.apply_card_url as string
    expect(applyCardUrl).toMatch(/^http%3A%2F%2F/)
    expect(decodeURIComponent(applyCardUrl)).toContain(`template_id=${templateId}`)
  })

  it('claims, exchanges the single-use auth code, reads the form and opens one card per user', async () => {
    const claim = await drive<{ status: number; requestId: string; callbackUrl: string }>(
      emulator,
      '/__emulator/claim',
      {
        userId,
        applyCardUrl,
        form: { mobile: '13900000000' },
      },
    )
    expect(claim.status).toBe(200)
    expect(claim.body.status).toBe(200)
    const callback = merchant.received.find((r) => r.url.pathname === '/aliCallback')
    expect(callback).toBeDefined()
    const q = callback!.url.searchParams
    expect(q.get('template_id')).toBe(templateId)
    expect(q.get('out_string')).toBe('channel-A')
    expect(q.get('app_id')).toBe(appId)
    const authCode = q.get('auth_code') as string
    const requestId = q.get('request_id') as string

    const token = await exec('alipay.system.oauth.token', {
      grantType: 'authorization_code',
      code: authCode,
    })
    expect(token.code).toBe('10000')
    expect(token.user_id).toBe(userId)
    const reused = await exec('alipay.system.oauth.token', {
      grantType: 'authorization_code',
      code: authCode,
    })
    expect(reused).toMatchObject({ code: '40002', sub_code: 'isv.code-invalid' })

    const authToken = token.access_token as string
    const form = await exec('alipay.marketing.card.activateform.query', {
      authToken,
      bizContent: { biz_type: 'MEMBER_CARD', template_id: templateId, request_id: requestId },
    })
    expect(form.code).toBe('10000')
    const infos = JSON.parse(form.infos as string) as Record<string, string>[]
    expect(infos).toContainEqual({ OPEN_FORM_FIELD_MOBILE: '13900000000' })
    expect(infos).toContainEqual({ OPEN_FORM_FIELD_NAME: '张三' })

    const openBiz = {
      out_serial_no: 'open-1',
      card_template_id: templateId,
      card_user_info: { user_uni_id: userId, user_uni_id_type: 'UID' },
      card_ext_info: { external_card_no: 'CRM-0001', point: '100', level: 'VIP1', balance: '8.50' },
      member_ext_info: { name: '张三', cell: '13900000000' },
    }
    const badLevel = await exec('alipay.marketing.card.open', {
      authToken,
      bizContent: {
        ...openBiz,
        out_serial_no: 'open-bad',
        card_ext_info: { external_card_no: 'X', level: 'VIP9' },
      },
    })
    expect(badLevel).toMatchObject({ code: '40004', sub_code: 'INVALID_PARAMETER' })
    const noExternal = await exec('alipay.marketing.card.open', {
      authToken,
      bizContent: { ...openBiz, out_serial_no: 'open-bad2', card_ext_info: { point: '1' } },
    })
    expect(String(noExternal.sub_msg)).toContain('external_card_no')

    const opened = await exec('alipay.marketing.card.open', { authToken, bizContent: openBiz })
    expect(opened.code).toBe('10000')
    const cardInfo = opened.card_info as Result
    expect(cardInfo.biz_card_no).toMatch(/^KG\d{12}$/)
    expect(cardInfo).toMatchObject({
      external_card_no: 'CRM-0001',
      point: '100',
      level: 'VIP1',
      balance: '8.50',
    })

    const replay = await exec('alipay.marketing.card.open', { authToken, bizContent: openBiz })
    expect((replay.card_info as Result).biz_card_no).toBe(cardInfo.biz_card_no)
    const second = await exec('alipay.marketing.card.open', {
      authToken,
      bizContent: { ...openBiz, out_serial_no: 'open-2' },
    })
    expect(second).toMatchObject({ code: '40004', sub_code: 'CARD_EXIST' })

    const noToken = await exec('alipay.marketing.card.open', {
      bizContent: { ...openBiz, out_serial_no: 'open-3' },
    })
    expect(noToken).toMatchObject({ code: '20001', sub_code: 'aop.invalid-auth-token' })

    const cards = await drive<Result[]>(
      emulator,
      `/__emulator/cards?userId=${userId}`,
      undefined,
      'GET',
    )
    expect(cards.body).toEqual([
      expect.objectContaining({
        bizCardNo: cardInfo.biz_card_no,
        externalCardNo: 'CRM-0001',
        templateId,
        point: '100',
        level: 'VIP1',
        balance: '8.50',
        status: 'ACTIVE',
        code: 'CRM-0001',
      }),
    ])
  })

  it('queries, updates and deletes the card; a wallet removal empties schema_url', async () => {
    const cards = (
      await drive<Result[]>(emulator, `/__emulator/cards?userId=${userId}`, undefined, 'GET')
    ).body
    const bizCardNo = cards[0]!.bizCardNo as string
    const query = await exec('alipay.marketing.card.query', {
      bizContent: { target_card_no: bizCardNo, target_card_no_type: 'BIZ_CARD' },
    })
    expect(query.code).toBe('10000')
    expect(String(query.schema_url)).toContain(bizCardNo)
    const byExternal = await exec('alipay.marketing.card.query', {
      bizContent: { target_card_no: 'CRM-0001', target_card_no_type: 'EXTERNAL_CARD' },
    })
    expect((byExternal.card_info as Result).biz_card_no).toBe(bizCardNo)

    const update = await exec('alipay.marketing.card.update', {
      bizContent: {
        target_card_no: bizCardNo,
        target_card_no_type: 'BIZ_CARD',
        occur_time: '2026-01-01 10:00:00',
        card_info: { point: '250', level: 'VIP2' },
      },
    })
    expect(update.code).toBe('10000')
    const badUpdate = await exec('alipay.marketing.card.update', {
      bizContent: {
        target_card_no: bizCardNo,
        target_card_no_type: 'BIZ_CARD',
        occur_time: '2026-01-01 10:00:00',
        card_info: { level: 'NOPE' },
      },
    })
    expect(badUpdate).toMatchObject({ code: '40004', sub_code: 'INVALID_PARAMETER' })
    const after = (
      await drive<Result[]>(emulator, `/__emulator/cards?userId=${userId}`, undefined, 'GET')
    ).body[0]!
    expect(after).toMatchObject({ point: '250', level: 'VIP2' })

    // POINT_REMIND: validated, recorded once per notify_no, shown on the card.
    const remind = (notifyNo: string, info: unknown, type = 'POINT_REMIND') =>
      exec('alipay.marketing.card.message.notify', {
        bizContent: {
          target_card_no: bizCardNo,
          target_card_no_type: 'BIZ_CARD',
          notify_type: type,
          notify_no: notifyNo,
          notify_info: typeof info === 'string' ? info : JSON.stringify(info),
          occur_time: '2026-01-01 10:00:00',
        },
      })
    const info = { expired_point: '3', expired_time: '2026-01-04 00:00:00' }
    expect((await remind('R1', info)).code).toBe('10000')
    expect((await remind('R1', info)).code).toBe('10000')
    expect(await remind('R2', { expired_point: '3' })).toMatchObject({
      code: '40004',
      sub_code: 'INVALID_PARAMETER',
      sub_msg: expect.stringContaining('expired_time'),
    })
    expect(await remind('R3', info, 'LEVEL_REMIND')).toMatchObject({
      sub_msg: expect.stringContaining('notify_type'),
    })
    expect(await remind('R4', 'not json')).toMatchObject({ sub_code: 'INVALID_PARAMETER' })
    const reminded = (
      await drive<Result[]>(emulator, `/__emulator/cards?userId=${userId}`, undefined, 'GET')
    ).body[0]!
    expect(reminded.messages).toEqual([
      expect.objectContaining({
        notifyNo: 'R1',
        notifyType: 'POINT_REMIND',
        expiredPoint: '3',
        expiredTime: '2026-01-04 00:00:00',
      }),
    ])

    await drive(emulator, `/__emulator/cards/${bizCardNo}/remove`)
    const removed = await exec('alipay.marketing.card.query', {
      bizContent: { target_card_no: bizCardNo, target_card_no_type: 'BIZ_CARD' },
    })
    expect(removed.schema_url).toBe('')

    const del = await exec('alipay.marketing.card.delete', {
      bizContent: {
        out_serial_no: 'del-1',
        target_card_no: bizCardNo,
        target_card_no_type: 'BIZ_CARD',
        reason_code: 'USER_UNBUND',
      },
    })
    expect(del.code).toBe('10000')
    expect(del.biz_serial_no).toMatch(/^\d{32}$/)
    const missing = await exec('alipay.marketing.card.query', {
      bizContent: { target_card_no: 'nope', target_card_no_type: 'BIZ_CARD' },
    })
    expect(missing).toMatchObject({ code: '40004', sub_code: 'CARD_NOT_EXIST' })
  })

  it('web authorization: the wallet user goes back to redirect_uri with a working auth_code', async () => {
    const authorize = (redirect: string, cookie?: string) =>
      fetch(
        `${emulator.url}/oauth2/publicAppAuthorize.htm?app_id=${appId}&scope=auth_base&state=s1&redirect_uri=${encodeURIComponent(redirect)}`,
        { redirect: 'manual', headers: cookie ? { cookie } : {} },
      )
    // Not on the origin of a registered callback URL: refused as Alipay does.
    const foreign = await authorize('https://elsewhere.example/x')
    expect(foreign.status).toBe(403)
    expect(await foreign.text()).toContain('ERR010')
    // No signed-in wallet user: the user picker, coming back here.
    const picker = await authorize(`${merchant.url}/stamps/exchange/A1?shopId=S1`)
    expect(picker.status).toBe(200)
    expect(await picker.text()).toContain('/wallet/login?userId=')
    const back = await authorize(
      `${merchant.url}/stamps/exchange/A1?shopId=S1`,
      `emu_uid=${userId}`,
    )
    expect(back.status).toBe(302)
    const to = new URL(back.headers.get('location')!)
    expect(to.origin + to.pathname).toBe(`${merchant.url}/stamps/exchange/A1`)
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      shopId: 'S1',
      app_id: appId,
      scope: 'auth_base',
      state: 's1',
      source: 'alipay_wallet',
    })
    const token = await exec('alipay.system.oauth.token', {
      grantType: 'authorization_code',
      code: to.searchParams.get('auth_code'),
    })
    expect(token.user_id).toBe(userId)
  })

  it('logs every gateway call, filterable by method', async () => {
    const { body } = await drive<Result[]>(
      emulator,
      '/__emulator/calls?method=alipay.marketing.card.open',
      undefined,
      'GET',
    )
    expect(body.length).toBeGreaterThanOrEqual(5)
    expect(body.every((c) => c.method === 'alipay.marketing.card.open')).toBe(true)
    expect(body.map((c) => (c.result as Result).code)).toContain('20001')
    expect(
      (body.find((c) => (c.result as Result).code === '10000')!.bizContent as Result).out_serial_no,
    ).toBe('open-1')
  })
})
