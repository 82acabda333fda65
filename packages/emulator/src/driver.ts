import type { FastifyInstance, FastifyReply } from 'fastify'
import {
  ActionError,
  claimCoupon,
  createUser,
  currentCode,
  pay,
  refund,
  removeCard,
  showCard,
} from './actions.js'
import { findUser, listCards } from './cards.js'
import type { CardRecord } from './cards.js'
import { ClaimError, isSpiTemplate, resolveClaimLink, submitClaim } from './claim.js'
import { claimBySpi } from './spi-claim.js'
import type { UserIdMode } from './identity.js'
import { listCardMessages } from './methods/card-methods.js'
import { issueAppCert, pki, rotateAlipayCert } from './certs.js'
import { parsePublicKey } from './crypto.js'
import { digits, hexToken } from './ids.js'
import { pointBalance } from './methods/koubei-methods.js'
import { defaultBehaviour } from './options.js'
import type { Behaviour } from './options.js'
import type { AppRecord, Runtime, ShopRecord, UserRecord } from './runtime.js'
import { json } from './store.js'

type Body = Record<string, unknown>

function fail(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).send({ error, message })
}

function str(body: Body, key: string): string | undefined {
  const v = body[key]
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined
}

function strList(body: Body, key: string): string[] {
  const v = body[key]
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

/** The driver API's view of a card (naming: bizCardNo = Alipay's biz_card_no). */
export function cardView(rt: Runtime, card: CardRecord): Record<string, unknown> {
  return {
    bizCardNo: card.bizCardNo,
    externalCardNo: card.externalCardNo,
    templateId: card.templateId,
    appId: card.appId,
    userId: card.userId,
    point: card.data.point ?? null,
    frontTextList: card.data.front_text_list ?? [],
    level: card.data.level ?? null,
    balance: card.data.balance ?? null,
    status: card.status,
    code: currentCode(rt, card).value,
    openDate: card.data.open_date ?? null,
    validDate: card.data.valid_date ?? null,
    // alipay.marketing.card.message.notify messages (POINT_REMIND), oldest first.
    messages: listCardMessages(rt, card.bizCardNo),
  }
}

/** Registers the JSON test-driver API under `/__emulator`. */
export function registerDriver(app: FastifyInstance, rt: Runtime): void {
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof ActionError) {
      return fail(reply, err.status, err.code, err.message)
    }
    if (err instanceof ClaimError) {
      return fail(reply, err.code === 'ERR010' ? 403 : 400, err.code, err.message)
    }
    const status =
      typeof (err as { statusCode?: unknown }).statusCode === 'number'
        ? (err as { statusCode: number }).statusCode
        : 500
    return fail(
      reply,
      status,
      status === 500 ? 'INTERNAL' : 'BAD_REQUEST',
      err instanceof Error ? err.message : String(err),
    )
  })

  app.post('/__emulator/apps', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const appId = str(body, 'appId')
    const key = str(body, 'appPublicKey')
    if (appId === undefined) {
      return fail(reply, 400, 'INVALID_APP', 'appId is required')
    }
    if (key === undefined) {
      return fail(reply, 400, 'INVALID_APP', 'appPublicKey is required')
    }
    const userIdMode = str(body, 'userIdMode')
    if (userIdMode !== undefined && !['user_id', 'both', 'open_id'].includes(userIdMode)) {
      return fail(reply, 400, 'INVALID_APP', 'userIdMode must be user_id, both or open_id')
    }
    let publicKeyPem: string
    try {
      publicKeyPem = parsePublicKey(key).export({ format: 'pem', type: 'spki' }).toString()
    } catch {
      return fail(
        reply,
        400,
        'INVALID_APP',
        'appPublicKey is not an RSA public key (PEM or base64 SPKI)',
      )
    }
    // Cert mode (公钥证书): the emulator's CA issues the app certificate for the app's key, as the
    // open-platform console does from the key tool's CSR, and hands out the Alipay and root certs.
    const certMode = body.certMode === true
    const validDays = typeof body.appCertValidDays === 'number' ? body.appCertValidDays : 365
    const appCert = certMode ? issueAppCert(rt, appId, publicKeyPem, validDays) : undefined
    const record: AppRecord = {
      appId,
      appPublicKey: key,
      ...(appCert ? { certMode: { appCertSn: appCert.sn } } : {}),
      callbackUrls: strList(body, 'callbackUrls'),
      products: body.products === undefined ? ['member_card', 'koubei'] : strList(body, 'products'),
      ...(str(body, 'gatewayUrl') !== undefined
        ? { gatewayUrl: str(body, 'gatewayUrl') as string }
        : {}),
      ...(body.messageChannel === 'websocket' || body.messageChannel === 'http'
        ? { messageChannel: body.messageChannel }
        : {}),
      ...(str(body, 'tradeNotifyUrl') !== undefined
        ? { tradeNotifyUrl: str(body, 'tradeNotifyUrl') as string }
        : {}),
      ...(str(body, 'spiUrl') !== undefined ? { spiUrl: str(body, 'spiUrl') as string } : {}),
      ...(userIdMode !== undefined ? { userIdMode: userIdMode as UserIdMode } : {}),
      ...(str(body, 'unionGroup') !== undefined
        ? { unionGroup: str(body, 'unionGroup') as string }
        : {}),
    }
    rt.db
      .prepare(
        'insert into apps (app_id, data) values (?, ?) on conflict (app_id) do update set data = excluded.data',
      )
      .run(appId, JSON.stringify(record))
    if (appCert) {
      const p = pki(rt)
      return {
        appId,
        alipayPublicKey: rt.alipayPublicKey,
        certs: {
          appCert: appCert.pem,
          appCertSn: appCert.sn,
          alipayPublicCert: p.current.pem,
          alipayCertSn: p.current.sn,
          alipayRootCert: p.rootPem,
          alipayRootCertSn: p.rootSn,
        },
      }
    }
    return { appId, alipayPublicKey: rt.alipayPublicKey }
  })

  // The current Alipay certificate of cert-mode apps, and its rotation: answers are signed with
  // the new certificate from the next call on; the old one stays downloadable by SN.
  app.get('/__emulator/alipay-cert', async () => {
    const p = pki(rt)
    return {
      alipayCertSn: p.current.sn,
      alipayPublicCert: p.current.pem,
      alipayRootCert: p.rootPem,
      alipayRootCertSn: p.rootSn,
    }
  })
  app.post('/__emulator/alipay-cert/rotate', async (request) => {
    const body = (request.body ?? {}) as Body
    const days = typeof body.validDays === 'number' ? body.validDays : 365
    const cert = rotateAlipayCert(rt, days)
    return { alipayCertSn: cert.sn, alipayPublicCert: cert.pem }
  })

  app.post('/__emulator/app-auth-tokens', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const isv = str(body, 'isvAppId')
    const merchant = str(body, 'merchantAppId')
    if (isv === undefined || merchant === undefined) {
      return fail(reply, 400, 'INVALID_INPUT', 'isvAppId and merchantAppId are required')
    }
    const token = `202${hexToken(18)}`
    rt.db
      .prepare('insert into app_auth_tokens (token, isv_app_id, merchant_app_id) values (?, ?, ?)')
      .run(token, isv, merchant)
    return { appAuthToken: token }
  })

  // my.getAuthCode in a mini-program: a single-use auth code for a user of an app.
  app.post('/__emulator/auth-codes', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const userId = str(body, 'userId')
    const appId = str(body, 'appId')
    if (userId === undefined || appId === undefined || findUser(rt, userId) === undefined) {
      return fail(
        reply,
        400,
        'INVALID_PARAMETER',
        'userId (an existing user) and appId are required',
      )
    }
    const authCode = hexToken(16)
    rt.db
      .prepare('insert into auth_codes (code, app_id, user_id, expires_at) values (?, ?, ?, ?)')
      .run(authCode, appId, userId, Date.now() + rt.behaviour.authCodeTtlSeconds * 1000)
    return { authCode }
  })

  app.post('/__emulator/users', async (request) => {
    const body = (request.body ?? {}) as Body
    const input: Partial<Omit<UserRecord, 'userId'>> = {}
    for (const key of ['name', 'mobile', 'gender', 'certNo'] as const) {
      const v = str(body, key)
      if (v !== undefined) {
        input[key] = v
      }
    }
    if (typeof body.lat === 'number') {
      input.lat = body.lat
    }
    if (typeof body.lng === 'number') {
      input.lng = body.lng
    }
    const user = createUser(rt, input)
    return user
  })

  app.get('/__emulator/users', async () => {
    const rows = rt.db.prepare('select data from users order by rowid').all() as { data: string }[]
    return rows.map((r) => json<UserRecord>(r.data))
  })

  app.post('/__emulator/shops', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const shopId = str(body, 'shopId')
    if (shopId === undefined) {
      return fail(reply, 400, 'INVALID_INPUT', 'shopId is required')
    }
    const shop: ShopRecord = {
      shopId,
      name: str(body, 'name') ?? shopId,
      address: str(body, 'address') ?? '',
      lat: typeof body.lat === 'number' ? body.lat : 30.2741,
      lng: typeof body.lng === 'number' ? body.lng : 120.1551,
    }
    rt.db
      .prepare(
        'insert into shops (shop_id, data) values (?, ?) on conflict (shop_id) do update set data = excluded.data',
      )
      .run(shopId, JSON.stringify(shop))
    return shop
  })

  app.post('/__emulator/claim', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const userId = str(body, 'userId')
    const url = str(body, 'applyCardUrl')
    if (userId === undefined || url === undefined) {
      return fail(reply, 400, 'INVALID_INPUT', 'userId and applyCardUrl are required')
    }
    const form: Record<string, string> = {}
    const raw = body.form
    if (raw !== null && typeof raw === 'object') {
      for (const [k, v] of Object.entries(raw as Body)) {
        if (v !== undefined && v !== null) {
          form[k] = String(v)
        }
      }
    }
    // What the user's browser sends with the callback (its cookies; X-Forwarded-For when a test
    // stands in for a proxy in front of the merchant).
    const browserHeaders: Record<string, string> = {}
    if (body.browserHeaders !== null && typeof body.browserHeaders === 'object') {
      for (const [k, v] of Object.entries(body.browserHeaders as Body)) {
        if (typeof v === 'string') {
          browserHeaders[k] = v
        }
      }
    }
    const link = resolveClaimLink(rt, url)
    const result = submitClaim(rt, link, userId, form)
    if (isSpiTemplate(rt, link.templateId)) {
      // 3.1 极速版: the SPI at the merchant, then the result message (success unless told otherwise).
      const openResult = str(body, 'openResult')
      if (openResult !== undefined && openResult !== 'success' && openResult !== 'failure') {
        return fail(reply, 400, 'INVALID_INPUT', 'openResult must be success or failure')
      }
      const spiCalls = typeof body.spiCalls === 'number' ? body.spiCalls : 1
      if (!Number.isInteger(spiCalls) || spiCalls < 1 || spiCalls > 5) {
        return fail(reply, 400, 'INVALID_INPUT', 'spiCalls must be a whole number from 1 to 5')
      }
      const spi = await claimBySpi(rt, link, userId, result.infos, {
        ...(openResult !== undefined ? { result: openResult } : {}),
        spiCalls,
      })
      return {
        mode: '3.1',
        requestId: result.requestId,
        outSerialNo: spi.outSerialNo,
        bizCardNo: spi.bizCardNo,
        spiStatuses: spi.statuses,
        spiAnswers: spi.answers,
        opened: spi.opened,
        resultNotifyId: spi.resultNotifyId,
        card: spi.card === null ? null : cardView(rt, spi.card),
      }
    }
    if (result.redirectUrl === null) {
      return {
        status: null,
        location: null,
        body: null,
        requestId: result.requestId,
        authCode: result.authCode,
        callbackUrl: null,
      }
    }
    let response: Response
    try {
      response = await fetch(result.redirectUrl, {
        headers: browserHeaders,
        redirect: 'manual',
        signal: AbortSignal.timeout(30_000),
      })
    } catch (err) {
      return fail(
        reply,
        502,
        'CALLBACK_UNREACHABLE',
        `merchant callback failed: ${err instanceof Error ? err.message : String(err)}`,
      )
    }
    return {
      status: response.status,
      location: response.headers.get('location'),
      body: await response.text(),
      setCookie: response.headers.getSetCookie(),
      requestId: result.requestId,
      authCode: result.authCode,
      callbackUrl: result.redirectUrl,
    }
  })

  app.get('/__emulator/cards', async (request) => {
    const q = request.query as Record<string, string | undefined>
    const clauses: string[] = []
    const args: string[] = []
    for (const [param, column] of [
      ['userId', 'user_id'],
      ['templateId', 'template_id'],
      ['appId', 'app_id'],
      ['status', 'status'],
    ] as const) {
      const v = q[param]
      if (v !== undefined && v !== '') {
        clauses.push(`${column} = ?`)
        args.push(v)
      }
    }
    return listCards(rt, clauses.length === 0 ? '1 = 1' : clauses.join(' and '), ...args).map((c) =>
      cardView(rt, c),
    )
  })

  app.post('/__emulator/cards/:bizCardNo/remove', async (request) => {
    const { bizCardNo } = request.params as { bizCardNo: string }
    return cardView(rt, removeCard(rt, bizCardNo))
  })

  app.post('/__emulator/cards/:bizCardNo/show', async (request) => {
    const { bizCardNo } = request.params as { bizCardNo: string }
    const shown = showCard(rt, bizCardNo)
    return {
      ...cardView(rt, shown.card),
      code: shown.code.value,
      codeKind: shown.code.kind,
      mdcodeNotifyId: shown.mdcodeNotifyId ?? null,
    }
  })

  app.post('/__emulator/pay', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const userId = str(body, 'userId')
    const appId = str(body, 'appId')
    const amount = str(body, 'amount')
    if (userId === undefined || appId === undefined || amount === undefined) {
      return fail(reply, 400, 'INVALID_INPUT', 'userId, appId and amount are required')
    }
    const shopId = str(body, 'shopId')
    const notifyUrl = str(body, 'notifyUrl')
    return pay(rt, {
      userId,
      appId,
      amount,
      ...(shopId !== undefined ? { shopId } : {}),
      ...(notifyUrl !== undefined ? { notifyUrl } : {}),
    })
  })

  app.post('/__emulator/refund', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const tradeNo = str(body, 'tradeNo')
    if (tradeNo === undefined) {
      return fail(reply, 400, 'INVALID_INPUT', 'tradeNo is required')
    }
    const amount = str(body, 'amount')
    return refund(rt, { tradeNo, ...(amount !== undefined ? { amount } : {}) })
  })

  app.post('/__emulator/coupons/claim', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    let itemId = str(body, 'itemId')
    let token = str(body, 'token')
    let outBizNo = str(body, 'outBizNo')
    const url = str(body, 'url')
    if (url !== undefined) {
      const params = new URL(url).searchParams
      itemId ??= params.get('itemId') ?? undefined
      token ??= params.get('token') ?? undefined
      outBizNo ??= params.get('outBizNo') ?? undefined
    }
    if (itemId === undefined || token === undefined || outBizNo === undefined) {
      return fail(reply, 400, 'INVALID_INPUT', 'url, or itemId + token + outBizNo, are required')
    }
    const userId = str(body, 'userId')
    return claimCoupon(rt, { itemId, token, outBizNo, ...(userId !== undefined ? { userId } : {}) })
  })

  // Koubei stamp accounts (koubei.marketing.tool.points.*): what a merchant mirrored, entry by entry.
  app.get('/__emulator/points', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>
    if (!q.activityAccount || !q.userId) {
      return fail(reply, 400, 'INVALID_INPUT', 'activityAccount and userId are required')
    }
    const entries = rt.db
      .prepare(
        'select point_log_no, req_id, trans_type, amount, biz_no from point_entries where activity_account = ? and user_id = ? order by rowid',
      )
      .all(q.activityAccount, q.userId) as {
      point_log_no: string
      req_id: string
      trans_type: string
      amount: number
      biz_no: string | null
    }[]
    return {
      ...pointBalance(rt, q.activityAccount, q.userId),
      entries: entries.map((e) => ({
        pointLogNo: e.point_log_no,
        reqId: e.req_id,
        transType: e.trans_type,
        amount: e.amount,
        bizNo: e.biz_no,
      })),
    }
  })

  // Drift on purpose: Koubei's balance changes without the merchant (a test of reconciliation).
  app.post('/__emulator/points', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const account = str(body, 'activityAccount')
    const userId = str(body, 'userId')
    const transType = str(body, 'transType')
    const amount = Number(str(body, 'amount'))
    if (account === undefined || userId === undefined) {
      return fail(reply, 400, 'INVALID_INPUT', 'activityAccount and userId are required')
    }
    if (transType !== 'DEPOSIT' && transType !== 'CONSUME') {
      return fail(reply, 400, 'INVALID_INPUT', 'transType must be DEPOSIT or CONSUME')
    }
    if (!Number.isInteger(amount) || amount < 1) {
      return fail(reply, 400, 'INVALID_INPUT', 'amount must be a whole number ≥ 1')
    }
    const activity = rt.db
      .prepare('select app_id from activities where camp_id = ?')
      .get(account) as { app_id: string } | undefined
    if (activity === undefined) {
      return fail(reply, 404, 'ACCOUNT_NOT_FOUND', `no point account ${account}`)
    }
    const logNo = `${Date.now()}${digits(12)}`
    rt.db
      .prepare(
        `insert into point_entries (point_log_no, app_id, req_id, activity_account, user_id, trans_type, amount, biz_no, fingerprint, created_at)
         values (?, ?, ?, ?, ?, ?, ?, null, 'driver', ?)`,
      )
      .run(
        logNo,
        activity.app_id,
        `driver:${hexToken(8)}`,
        account,
        userId,
        transType,
        amount,
        new Date().toISOString(),
      )
    return { pointLogNo: logNo, ...pointBalance(rt, account, userId) }
  })

  app.post('/__emulator/faults', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const specs = Array.isArray(body.faults) ? body.faults : [body]
    try {
      return { faults: specs.map((s) => rt.faults.add(s)) }
    } catch (err) {
      return fail(reply, 400, 'INVALID_FAULT', err instanceof Error ? err.message : String(err))
    }
  })
  app.get('/__emulator/faults', async () => ({ faults: rt.faults.list() }))
  app.delete('/__emulator/faults', async () => {
    rt.faults.clear()
    return { faults: [] }
  })

  app.get('/__emulator/calls', async (request) => {
    const q = request.query as Record<string, string | undefined>
    const clauses: string[] = []
    const args: string[] = []
    if (q.method !== undefined && q.method !== '') {
      clauses.push('method = ?')
      args.push(q.method)
    }
    if (q.appId !== undefined && q.appId !== '') {
      clauses.push('app_id = ?')
      args.push(q.appId)
    }
    const where = clauses.length === 0 ? '' : `where ${clauses.join(' and ')}`
    const rows = rt.db.prepare(`select * from calls ${where} order by id`).all(...args) as {
      id: number
      time: string
      method: string | null
      app_id: string | null
      biz_content: string | null
      params: string
      code: string
      sub_code: string | null
      response: string
    }[]
    return rows.map((r) => ({
      id: r.id,
      time: r.time,
      method: r.method,
      appId: r.app_id,
      bizContent: parseMaybe(r.biz_content),
      params: json<Record<string, string>>(r.params),
      result: { code: r.code, subCode: r.sub_code },
      response: r.response,
    }))
  })
  app.delete('/__emulator/calls', async () => {
    rt.db.prepare('delete from calls').run()
    return { calls: [] }
  })

  app.get('/__emulator/notifications', async (request) => {
    const q = request.query as Record<string, string | undefined>
    return rt.notifier.list(q.kind !== undefined && q.kind !== '' ? q.kind : undefined)
  })

  // The message long connection: queue a message, see the queue and the acks, cut connections.
  app.post('/__emulator/channel/messages', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    const appId = str(body, 'appId')
    const msgApi = str(body, 'msgApi')
    if (appId === undefined || msgApi === undefined) {
      return fail(reply, 400, 'INVALID_MESSAGE', 'appId and msgApi are required')
    }
    const msgId = rt.channel.enqueue(appId, msgApi, body.content ?? {}, {
      badSignature: body.badSignature === true,
      ...(str(body, 'msgId') !== undefined ? { msgId: str(body, 'msgId') as string } : {}),
    })
    return { msgId }
  })
  app.get('/__emulator/channel/messages', async (request) => {
    const q = request.query as Record<string, string | undefined>
    return { messages: rt.channel.list(q.appId), acks: rt.channel.acks }
  })
  app.get('/__emulator/channel/connections', async () => ({
    connections: rt.channel.connections(),
  }))
  app.post('/__emulator/channel/drop', async (request) => {
    const body = (request.body ?? {}) as Body
    return { dropped: rt.channel.drop(str(body, 'appId')) }
  })
  app.get('/__emulator/behaviour', async () => rt.behaviour)
  app.post('/__emulator/behaviour', async (request, reply) => {
    const body = (request.body ?? {}) as Body
    for (const key of Object.keys(body)) {
      if (!(key in defaultBehaviour)) {
        return fail(reply, 400, 'INVALID_BEHAVIOUR', `unknown behaviour: ${key}`)
      }
    }
    Object.assign(rt.behaviour, body as Partial<Behaviour>)
    return rt.behaviour
  })

  app.get('/__emulator/users/:userId', async (request, reply) => {
    const { userId } = request.params as { userId: string }
    const user = findUser(rt, userId)
    return user === undefined ? fail(reply, 404, 'USER_NOT_FOUND', `no user ${userId}`) : user
  })
}

function parseMaybe(text: string | null): unknown {
  if (text === null) {
    return null
  }
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
