import type { AlipaySdk } from 'alipay-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NotificationView, RunningEmulator } from '../src/index.js'
import { drive, eventually, registerApp, startMerchant, startTestEmulator } from './helpers.js'

type Result = Record<string, unknown>

describe('notifications and Koubei point collection', () => {
  let emulator: RunningEmulator
  let merchant: Awaited<ReturnType<typeof startMerchant>>
  let sdk: AlipaySdk
  let appId: string
  let userId: string
  let templateId: string
  let failuresLeft = 0

  const exec = (method: string, params: Record<string, unknown> = {}): Promise<Result> =>
    sdk.exec(method, params, { validateSign: true }) as Promise<Result>
  const notifications = async (kind: string): Promise<NotificationView[]> =>
    (
      await drive<NotificationView[]>(
        emulator,
        `/__emulator/notifications?kind=${kind}`,
        undefined,
        'GET',
      )
    ).body

  /** Claims through the driver and opens the card as the merchant would. */
  async function openCard(tpl: string, user: string, external: string): Promise<string> {
    const link = await exec('alipay.marketing.card.activateurl.apply', {
      bizContent: { template_id: tpl, callback: `${merchant.url}/aliCallback` },
    })
    const claim = await drive<{ callbackUrl: string }>(emulator, '/__emulator/claim', {
      userId: user,
      applyCardUrl: link.apply_card_url,
      form: {},
    })
    const q = new URL(claim.body.callbackUrl).searchParams
    const token = await exec('alipay.system.oauth.token', {
      grantType: 'authorization_code',
      code: q.get('auth_code'),
    })
    const opened = await exec('alipay.marketing.card.open', {
      authToken: token.access_token,
      bizContent: {
        out_serial_no: `open-${external}`,
        card_template_id: tpl,
        card_user_info: { user_uni_id: user, user_uni_id_type: 'UID' },
        card_ext_info: { external_card_no: external, point: '0' },
      },
    })
    expect(opened.code).toBe('10000')
    return (opened.card_info as Result).biz_card_no as string
  }

  beforeAll(async () => {
    // 25 hours of Alipay's schedule in ~1 s.
    emulator = await startTestEmulator({ notifyTimeFactor: 0.00001 })
    merchant = await startMerchant((req, res) => {
      if (req.method === 'POST' && failuresLeft > 0) {
        failuresLeft -= 1
        res.end('fail')
        return
      }
      res.end(req.method === 'GET' ? 'ok' : 'success')
    })
    const registered = await registerApp(emulator, {
      callbackUrls: [`${merchant.url}/aliCallback`],
      gatewayUrl: `${merchant.url}/gateway`,
    })
    sdk = registered.sdk
    appId = registered.appId
    userId = (await drive<{ userId: string }>(emulator, '/__emulator/users', {})).body.userId
    const created = await exec('alipay.marketing.card.template.create', {
      notifyUrl: `${merchant.url}/card-notify`,
      bizContent: { request_id: 't1', card_type: 'OUT_MEMBER_CARD', biz_no_suffix_len: '10' },
    })
    templateId = created.template_id as string
  })
  afterAll(async () => {
    await emulator.close()
    await merchant.close()
  })

  it('sends a signed card-open notification that alipay-sdk verifies, retrying until "success"', async () => {
    failuresLeft = 2
    const bizCardNo = await openCard(templateId, userId, 'N-1')
    const delivered = await eventually(async () =>
      (await notifications('card_open')).find(
        (n) => n.params.biz_card_no === bizCardNo && n.status === 'delivered',
      ),
    )
    expect(delivered.attempts).toBe(3)
    expect(delivered.url).toBe(`${merchant.url}/card-notify`)
    const posts = merchant.received.filter((r) => r.url.pathname === '/card-notify')
    expect(posts).toHaveLength(3)
    const form = posts[0]!.form
    expect(form).toMatchObject({
      notify_type: 'MEMBER_CARD_OPEN',
      template_id: templateId,
      biz_card_no: bizCardNo,
      external_card_no: 'N-1',
      user_id: userId,
      app_id: appId,
      sign_type: 'RSA2',
    })
    expect(sdk.checkNotifySignV2({ ...form })).toBe(true)
    expect(sdk.checkNotifySignV2({ ...form, external_card_no: 'tampered' })).toBe(false)
  })

  it('drops or duplicates notifications on request', async () => {
    const user2 = (await drive<{ userId: string }>(emulator, '/__emulator/users', {})).body.userId
    await drive(emulator, '/__emulator/faults', {
      kind: 'dropNotify',
      method: 'card_open',
      count: 1,
    })
    const dropped = await openCard(templateId, user2, 'N-2')
    expect(
      (await notifications('card_open')).find((n) => n.params.biz_card_no === dropped)?.status,
    ).toBe('dropped')

    await drive(emulator, '/__emulator/faults', {
      kind: 'duplicateNotify',
      method: 'card_delete',
      count: 1,
    })
    const del = await exec('alipay.marketing.card.delete', {
      bizContent: {
        out_serial_no: 'd-2',
        target_card_no: dropped,
        target_card_no_type: 'BIZ_CARD',
        reason_code: 'CANCEL',
      },
    })
    expect(del.code).toBe('10000')
    const posts = await eventually(() => {
      const found = merchant.received.filter(
        (r) => r.form.biz_card_no === dropped && r.form.notify_type === 'MEMBER_CARD_DELETE',
      )
      return found.length >= 2 ? found : undefined
    })
    expect(posts[0]!.form.notify_id).toBe(posts[1]!.form.notify_id)
    expect(posts[0]!.form.reason_code).toBe('CANCEL')
  })

  it('gives up after the schedule is exhausted (bounded retries)', async () => {
    failuresLeft = 100
    const { body } = await drive<{ notifyId: string }>(emulator, '/__emulator/pay', {
      userId,
      appId,
      shopId: 'shop-9',
      amount: '12.5',
    })
    const failed = await eventually(async () =>
      (await notifications('trade')).find((n) => n.id === body.notifyId && n.status === 'failed'),
    )
    expect(failed.attempts).toBe(8)
    expect(failed.params).toMatchObject({
      notify_type: 'trade_status_sync',
      trade_status: 'TRADE_SUCCESS',
      total_amount: '12.50',
      buyer_id: userId,
      store_id: 'shop-9',
    })
    failuresLeft = 0
  })

  it('asks the merchant for a dynamic code when the user opens an mdcode card', async () => {
    const md = await exec('alipay.marketing.card.template.create', {
      bizContent: {
        request_id: 'md1',
        card_type: 'OUT_MEMBER_CARD',
        biz_no_suffix_len: '10',
        write_off_type: 'mdqrcode',
        mdcode_notify_conf: { url: `${merchant.url}/mdcode`, ext_params: '{"shop":"s1"}' },
      },
    })
    const user3 = (await drive<{ userId: string }>(emulator, '/__emulator/users', {})).body.userId
    const bizCardNo = await openCard(md.template_id as string, user3, 'MD-1')
    const shown = await drive<Result>(emulator, `/__emulator/cards/${bizCardNo}/show`)
    expect(shown.body.code).toBeNull()
    const post = await eventually(() => merchant.received.find((r) => r.url.pathname === '/mdcode'))
    expect(post.form).toMatchObject({ BizCardNo: bizCardNo, shop: 's1' })
    expect(post.form).not.toHaveProperty('app_id')
    expect(sdk.checkNotifySignV2({ ...post.form })).toBe(true)
    const update = await exec('alipay.marketing.card.update', {
      bizContent: {
        target_card_no: bizCardNo,
        target_card_no_type: 'BIZ_CARD',
        occur_time: '2026-01-01 00:00:00',
        card_info: {
          mdcode_info: {
            code_status: 'SUCCESS',
            code_value: 'DYN-123',
            expire_time: '2099-01-01 00:00:00',
            time_stamp: 1,
          },
        },
      },
    })
    expect(update.code).toBe('10000')
    const cards = await drive<Result[]>(
      emulator,
      `/__emulator/cards?userId=${user3}`,
      undefined,
      'GET',
    )
    expect(cards.body[0]!.code).toBe('DYN-123')
  })

  it('runs a stamp card: deposit, freeze, commit, cancel, idempotent req_id, insufficient points', async () => {
    const pointCard = await exec('koubei.marketing.campaign.activity.create', {
      bizContent: {
        out_biz_no: 'pc-1',
        name: '集8点送20元',
        type: 'POINT_SEND',
        start_time: '2026-01-01 00:00:00',
        end_time: '2026-12-31 23:59:59',
        constraint_info: { suit_shops: ['shop-1'] },
        promo_tools: [
          {
            point_card: {
              type: 'POINT_CARD',
              name: '咖啡集点卡',
              start_time: '2026-01-01 00:00:00',
              end_time: '2027-01-31 23:59:59',
            },
          },
        ],
      },
    })
    expect(pointCard).toMatchObject({ code: '10000', camp_status: 'STARTED' })
    const account = pointCard.camp_id as string
    const update = (
      reqId: string,
      transType: string,
      amount: string,
      extra: Record<string, string> = {},
    ) =>
      exec('koubei.marketing.tool.points.update', {
        bizContent: {
          req_id: reqId,
          user_id: userId,
          activity_account: account,
          trans_type: transType,
          trans_amount: amount,
          ...extra,
        },
      })
    const deposit = await update('r1', 'DEPOSIT', '5', { shop_id: 'shop-1', biz_no: 'trade-1' })
    expect(deposit.point_log_no).toMatch(/^\d+$/)
    expect(
      (await update('r1', 'DEPOSIT', '5', { shop_id: 'shop-1', biz_no: 'trade-1' })).point_log_no,
    ).toBe(deposit.point_log_no)
    expect(
      await update('r1', 'DEPOSIT', '6', { shop_id: 'shop-1', biz_no: 'trade-1' }),
    ).toMatchObject({ code: '40004', sub_code: 'KOUBEI_EMU.REQ_ID_CONFLICT' })
    const freeze = await update('r2', 'FREEZE', '3')
    expect(await update('r3', 'CONSUME', '3')).toMatchObject({
      code: '40004',
      sub_code: 'KOUBEI_EMU.POINTS_NOT_ENOUGH',
    })
    let balance = await exec('koubei.marketing.tool.points.query', {
      bizContent: { activity_account: account, user_id: userId },
    })
    expect(balance).toMatchObject({ total_points: '5', available_points: '2', freezed_points: '3' })
    expect(
      (await update('r4', 'COMMIT', '3', { biz_no: freeze.point_log_no as string })).code,
    ).toBe('10000')
    expect(
      await update('r5', 'CANCEL', '3', { biz_no: freeze.point_log_no as string }),
    ).toMatchObject({ sub_code: 'KOUBEI_EMU.FREEZE_ALREADY_RESOLVED' })
    expect(await update('r6', 'FREEZE', '1', { biz_no: 'x' })).toMatchObject({
      sub_code: 'INVALID_PARAMETER',
    })
    balance = await exec('koubei.marketing.tool.points.query', {
      bizContent: { activity_account: account, user_id: userId },
    })
    expect(balance).toMatchObject({ total_points: '5', available_points: '2', freezed_points: '0' })

    // The driver shows the account entry by entry, and drifts it on purpose.
    const view = async () =>
      (
        await drive<Result & { entries: Result[] }>(
          emulator,
          `/__emulator/points?activityAccount=${account}&userId=${userId}`,
          undefined,
          'GET',
        )
      ).body
    const seen = await view()
    expect(seen).toMatchObject({ total: 5, available: 2, frozen: 0 })
    expect(seen.entries.map((e) => [e.reqId, e.transType, e.amount])).toEqual([
      ['r1', 'DEPOSIT', 5],
      ['r2', 'FREEZE', 3],
      ['r4', 'COMMIT', 3],
    ])
    const drift = await drive<Result>(emulator, '/__emulator/points', {
      activityAccount: account,
      userId,
      transType: 'CONSUME',
      amount: 2,
    })
    expect(drift.body).toMatchObject({ total: 5, available: 0, frozen: 0 })
    expect(
      (
        await drive<Result>(emulator, '/__emulator/points', {
          activityAccount: account,
          userId,
          transType: 'FREEZE',
          amount: 1,
        })
      ).status,
    ).toBe(400)
    balance = await exec('koubei.marketing.tool.points.query', {
      bizContent: { activity_account: account, user_id: userId },
    })
    expect(balance).toMatchObject({ available_points: '0' })
  })

  it('exchanges a prize: query gives URL_WITH_TOKEN, prizesend.auth a single-use token, the claim a coupon notification', async () => {
    const exchange = await exec('koubei.marketing.campaign.activity.create', {
      notifyUrl: `${merchant.url}/coupon-notify`,
      bizContent: {
        out_biz_no: 'ex-1',
        name: '兑换券',
        type: 'DIRECT_SEND',
        start_time: '2026-01-01 00:00:00',
        end_time: '2026-12-31 23:59:59',
        budget_info: { budget_type: 'QUANTITY', budget_total: '10' },
        promo_tools: [{ voucher: { type: 'MONEY', name: '20元代金券', worth_value: '20' } }],
        publish_channels: [{ type: 'URL_WITH_TOKEN', name: '领券链接' }],
      },
    })
    const detail = (
      await exec('koubei.marketing.campaign.activity.query', {
        bizContent: { camp_id: exchange.camp_id },
      })
    ).camp_detail as Result
    const channel = (detail.publish_channels as Result[])[0]!
    const pageUrl = (JSON.parse(channel.ext_info as string) as Record<string, string>)
      .URL_WITH_TOKEN as string
    const itemId = new URL(pageUrl).searchParams.get('itemId') as string
    const auth = await exec('koubei.marketing.tool.prizesend.auth', {
      bizContent: { req_id: 'p1', prize_id: itemId, user_id: userId },
    })
    expect(auth.token).toMatch(/^[0-9a-f]{32}$/)
    const link = `${pageUrl}&type=membercard&token=${String(auth.token)}&outBizNo=out-1`
    const claimed = await drive<Result>(emulator, '/__emulator/coupons/claim', { url: link })
    expect(claimed.status).toBe(200)
    const again = await drive<Result>(emulator, '/__emulator/coupons/claim', { url: link })
    expect(again.body.error).toBe('TOKEN_USED')
    const post = await eventually(() =>
      merchant.received.find((r) => r.url.pathname === '/coupon-notify'),
    )
    expect(post.form).toMatchObject({
      notify_type: 'koubei_receive_coupon_notify',
      event_code: 'EC-promocore-prize-notice',
      buyer_id: userId,
      isv_out_biz_id: 'out-1',
      business_order: `${userId}|${String(exchange.camp_id)}`,
    })
    expect(sdk.checkNotifySignV2({ ...post.form })).toBe(true)
    expect(
      await exec('koubei.marketing.tool.prizesend.auth', {
        bizContent: { req_id: 'p2', prize_id: 'nope', user_id: userId },
      }),
    ).toMatchObject({ sub_code: 'KOUBEI_EMU.PRIZE_NOT_FOUND' })
  })
})
