import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import QRCode from 'qrcode'
import { ActionError, claimCoupon, createUser, pay, removeCard, showCard } from '../actions.js'
import type { CardCode } from '../actions.js'
import { findApp, findCard, findTemplate, findUser, listCards } from '../cards.js'
import type { CardRecord, TemplateRecord } from '../cards.js'
import {
  callbackAllowed,
  ClaimError,
  claimForm,
  err010,
  findClaimLink,
  submitClaim,
  isSpiTemplate,
} from '../claim.js'
import { listCardMessages } from '../methods/card-methods.js'
import { findActivityByItem } from '../methods/koubei-methods.js'
import type { AppRecord, Runtime, ShopRecord, UserRecord } from '../runtime.js'
import { claimBySpi } from '../spi-claim.js'
import { json } from '../store.js'
import { hexToken } from '../ids.js'
import { code128Svg } from './barcode.js'
import { esc, page } from './html.js'

const cookieName = 'emu_uid'

function currentUser(rt: Runtime, request: FastifyRequest): UserRecord | undefined {
  const cookie = String(request.headers.cookie ?? '')
  const match = new RegExp(`(?:^|;\\s*)${cookieName}=(\\d+)`).exec(cookie)
  return match?.[1] === undefined ? undefined : findUser(rt, match[1])
}

function html(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body)
}

function login(reply: FastifyReply, userId: string): FastifyReply {
  return reply.header('set-cookie', `${cookieName}=${userId}; Path=/; SameSite=Lax`)
}

function errorPage(reply: FastifyReply, message: string, status = 400): FastifyReply {
  return html(
    reply,
    page(
      '出错了',
      `<div class="panel error" data-testid="error">${esc(message)}</div><a class="btn secondary" href="/wallet">返回首页</a>`,
    ),
    status,
  )
}

function userPicker(rt: Runtime, next: string): string {
  const users = (
    rt.db.prepare('select data from users order by rowid desc limit 50').all() as { data: string }[]
  ).map((r) => json<UserRecord>(r.data))
  const list = users
    .map(
      (u) =>
        `<li class="row"><span>${esc(u.name)} <span class="muted">${esc(u.userId)}</span></span><a href="/wallet/login?userId=${esc(u.userId)}&next=${encodeURIComponent(next)}">使用</a></li>`,
    )
    .join('')
  return `<div class="panel"><h3>选择支付宝账号</h3><ul class="plain" data-testid="users">${list || '<li class="muted">还没有用户</li>'}</ul></div>
<form class="panel" method="post" action="/wallet/users"><h3>新建用户</h3><input type="hidden" name="next" value="${esc(next)}">
<label for="name">姓名</label><input id="name" name="name" placeholder="留空则随机">
<label for="mobile">手机号</label><input id="mobile" name="mobile" placeholder="留空则随机">
<label for="gender">性别</label><select id="gender" name="gender"><option>男</option><option>女</option></select>
<p></p><button class="btn" type="submit">创建并登录</button></form>`
}

function styleOf(
  rt: Runtime,
  template: TemplateRecord | undefined,
): { name: string; background: string; logo: string; color: string } {
  const style = (template?.data.template_style_info ?? {}) as Record<string, unknown>
  const image = (key: string): string =>
    typeof style[key] === 'string' ? `${rt.publicUrl}/images/${String(style[key])}` : ''
  return {
    name: typeof style.card_show_name === 'string' ? style.card_show_name : '会员卡',
    background: image('background_id'),
    logo: image('logo_id'),
    // bg_color is the font colour of the card's info area (SDK comment, §3.2).
    color: typeof style.bg_color === 'string' ? style.bg_color : '#fff',
  }
}

function cardFace(
  rt: Runtime,
  card: CardRecord | undefined,
  template: TemplateRecord | undefined,
  link?: string,
): string {
  const s = styleOf(rt, template)
  const bg = s.background === '' ? '' : `background-image:url('${esc(s.background)}');`
  const tag = link === undefined ? 'div' : 'a'
  const href = link === undefined ? '' : ` href="${esc(link)}"`
  return `<${tag} class="card" data-testid="card"${href} style="${bg}color:${esc(s.color)}">${s.logo === '' ? '' : `<img class="logo" alt="logo" src="${esc(s.logo)}">`}<span class="name">${esc(s.name)}</span>${card === undefined ? '' : `${frontTextsHtml(card)}<span class="no">${esc(card.externalCardNo)}</span>`}</${tag}>`
}

/** `front_text_list` (card.open / card.update): short texts Alipay prints on the card face, e.g. 集点 3/5. */
function frontTextsHtml(card: CardRecord): string {
  const texts = Array.isArray(card.data.front_text_list)
    ? (card.data.front_text_list as Record<string, unknown>[])
    : []
  if (texts.length === 0) {
    return ''
  }
  return `<span class="front" data-testid="front-texts">${texts
    .map(
      (t) =>
        `<span data-front-label="${esc(String(t.label ?? ''))}">${esc(String(t.label ?? ''))} ${esc(String(t.value ?? ''))}</span>`,
    )
    .join('')}</span>`
}

function levelName(template: TemplateRecord | undefined, level: unknown): string {
  const confs = Array.isArray(template?.data.card_level_conf)
    ? (template.data.card_level_conf as Record<string, unknown>[])
    : []
  const conf = confs.find((c) => c.level === level)
  return String(conf?.level_show_name ?? level ?? '')
}

async function codeHtml(code: CardCode): Promise<string> {
  if (code.kind === 'none') {
    return ''
  }
  if (code.value === null) {
    return '<div class="panel code" data-testid="code-pending"><p>正在获取动态码…</p><p class="muted">商户动态码由商户系统生成</p></div>'
  }
  const label = `<p data-testid="code-value">${esc(code.value)}</p>`
  if (code.kind === 'text') {
    return `<div class="panel code">${label}</div>`
  }
  const graphic =
    code.kind === 'barcode'
      ? code128Svg(code.value)
      : await QRCode.toString(code.value, { type: 'svg', margin: 1 })
  return `<div class="panel code" data-testid="code">${graphic}${label}${code.dynamic ? '<p class="muted">动态码,定时刷新</p>' : ''}</div>`
}

function distanceKm(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLng = (b.lng - a.lng) * rad
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2
  return 6371 * 2 * Math.asin(Math.sqrt(h))
}

function shopsHtml(rt: Runtime, template: TemplateRecord | undefined, user: UserRecord): string {
  const ids = Array.isArray(template?.data.shop_ids)
    ? (template.data.shop_ids as unknown[]).map(String)
    : []
  if (ids.length === 0) {
    return ''
  }
  const shops = ids.map((id) => {
    const row = rt.db.prepare('select data from shops where shop_id = ?').get(id) as
      { data: string } | undefined
    const shop = row === undefined ? undefined : json<ShopRecord>(row.data)
    return { id, shop, km: shop === undefined ? Infinity : distanceKm(user, shop) }
  })
  shops.sort((a, b) => a.km - b.km)
  const rows = shops
    .map(
      (s) =>
        `<li class="row"><span>${esc(s.shop?.name ?? s.id)}<br><span class="muted">${esc(s.shop?.address ?? '')}</span></span><span class="muted">${Number.isFinite(s.km) ? `${s.km.toFixed(1)}km` : ''}</span></li>`,
    )
    .join('')
  return `<div class="panel"><h3>适用门店</h3><ul class="plain" data-testid="shops">${rows}</ul></div>`
}

function columnsHtml(card: CardRecord, template: TemplateRecord | undefined): string {
  const columns = Array.isArray(template?.data.column_info_list)
    ? (template.data.column_info_list as Record<string, unknown>[])
    : []
  const value = (c: Record<string, unknown>): string => {
    switch (c.code) {
      case 'POINT':
        return String(card.data.point ?? '0')
      case 'LEVEL':
        return levelName(template, card.data.level)
      case 'BALANCE':
        return card.data.balance === undefined ? '0.00' : `¥${String(card.data.balance)}`
      default:
        return String(c.value ?? '')
    }
  }
  if (columns.length === 0) {
    return ''
  }
  return `<div class="panel columns" data-testid="columns">${columns.map((c) => `<div><b data-column="${esc(c.code)}">${esc(value(c))}</b><span class="muted">${esc(c.title)}</span></div>`).join('')}</div>`
}

/** The card's POINT_REMIND messages, as Alipay shows an expiry reminder to the holder. */
function messagesHtml(rt: Runtime, card: CardRecord): string {
  const messages = listCardMessages(rt, card.bizCardNo)
  if (messages.length === 0) {
    return ''
  }
  return `<div class="panel"><h3>积分过期提醒</h3><ul class="plain" data-testid="card-messages">${messages
    .map(
      (m) =>
        `<li class="row" data-notify-no="${esc(m.notifyNo)}"><span>${esc(m.expiredPoint)} 将于 ${esc(m.expiredTime)} 过期</span></li>`,
    )
    .join('')}</ul></div>`
}

function actionsHtml(template: TemplateRecord | undefined): string {
  const actions = Array.isArray(template?.data.card_action_list)
    ? (template.data.card_action_list as Record<string, unknown>[])
    : []
  if (actions.length === 0) {
    return ''
  }
  return `<div class="panel"><ul class="plain">${actions
    .map((a) => {
      const mini = a.mini_app_url as Record<string, unknown> | undefined
      const href =
        typeof a.url === 'string'
          ? a.url
          : `alipays://platformapi/startApp?appId=${String(mini?.mini_app_id ?? '')}`
      return `<li class="row"><a href="${esc(href)}">${esc(a.text)}</a><span class="muted">›</span></li>`
    })
    .join('')}</ul></div>`
}

/** Registers the simulated Alipay wallet (zh-CN, server-rendered) and the image host. */
export async function registerWallet(app: FastifyInstance, rt: Runtime): Promise<void> {
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof ActionError) {
      return errorPage(reply, err.message, err.status)
    }
    if (err instanceof ClaimError) {
      return errorPage(reply, err.message, err.code === 'ERR010' ? 403 : 400)
    }
    return errorPage(reply, err instanceof Error ? err.message : String(err), 500)
  })

  app.get('/images/:id', async (request, reply) => {
    const { id } = request.params as { id: string }
    const row = rt.db.prepare('select image_type, bytes from images where image_id = ?').get(id) as
      { image_type: string; bytes: Buffer } | undefined
    if (row === undefined) {
      return reply.code(404).send('not found')
    }
    const type = row.image_type === 'jpg' ? 'jpeg' : row.image_type
    return reply.type(type === 'mp4' ? 'video/mp4' : `image/${type}`).send(row.bytes)
  })

  // The emulator's address opened in a browser: the wallet is what a person wants to see.
  app.get('/', async (_request, reply) => reply.redirect('/wallet'))

  app.get('/wallet', async (request, reply) => {
    const user = currentUser(rt, request)
    if (user === undefined) {
      return html(reply, page('支付宝', userPicker(rt, '/wallet/cards')))
    }
    return html(
      reply,
      page(
        '支付宝',
        `<div class="panel"><div class="row"><span>当前用户</span><span data-testid="current-user">${esc(user.name)} ${esc(user.userId)}</span></div></div>
<a class="btn" href="/wallet/cards">卡包</a><p></p><a class="btn secondary" href="/wallet/pay">付款</a><p></p>${userPicker(rt, '/wallet')}`,
      ),
    )
  })

  // Web authorization (网页授权, auth_base): a page opened in Alipay — a card's action point —
  // sends the user here; the signed-in user comes back to redirect_uri with a single-use auth_code
  // (and app_id, source, scope, state), as Alipay appends them. redirect_uri must be on the origin
  // of one of the app's registered callback URLs (授权回调地址).
  app.get('/oauth2/publicAppAuthorize.htm', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>
    const app = findApp(rt, q.app_id ?? '')
    if (app === undefined) {
      return errorPage(reply, `应用不存在:${q.app_id ?? ''}`, 404)
    }
    let target: URL
    try {
      target = new URL(q.redirect_uri ?? '')
    } catch {
      return errorPage(reply, 'redirect_uri 不合法', 400)
    }
    const allowed = app.callbackUrls.some((u) => {
      try {
        return new URL(u).origin === target.origin
      } catch {
        return false
      }
    })
    if (!allowed) {
      return errorPage(reply, '系统异常，请联系商家(ERR010)', 403)
    }
    const user = currentUser(rt, request)
    if (user === undefined) {
      return html(reply, page('支付宝授权', userPicker(rt, request.url)))
    }
    const authCode = hexToken(16)
    rt.db
      .prepare('insert into auth_codes (code, app_id, user_id, expires_at) values (?, ?, ?, ?)')
      .run(authCode, app.appId, user.userId, Date.now() + rt.behaviour.authCodeTtlSeconds * 1000)
    const scope = q.scope ?? 'auth_base'
    target.searchParams.set('app_id', app.appId)
    target.searchParams.set('source', 'alipay_wallet')
    target.searchParams.set('scope', scope)
    target.searchParams.set('auth_code', authCode)
    if (q.state !== undefined) {
      target.searchParams.set('state', q.state)
    }
    return reply.redirect(target.toString(), 302)
  })

  app.get('/wallet/login', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>
    const user = findUser(rt, q.userId ?? '')
    if (user === undefined) {
      return errorPage(reply, '用户不存在', 404)
    }
    const next = q.next !== undefined && q.next.startsWith('/') ? q.next : '/wallet'
    return login(reply, user.userId).redirect(next)
  })

  app.post('/wallet/users', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string>
    const user = createUser(rt, {
      ...(body.name ? { name: body.name } : {}),
      ...(body.mobile ? { mobile: body.mobile } : {}),
      ...(body.gender ? { gender: body.gender } : {}),
    })
    const next =
      typeof body.next === 'string' && body.next.startsWith('/') ? body.next : '/wallet/cards'
    return login(reply, user.userId).redirect(next)
  })

  app.get('/wallet/activecard.htm', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>
    const link = findClaimLink(rt, q.apply_id ?? '')
    const user = currentUser(rt, request)
    if (user === undefined) {
      return html(reply, page('领取会员卡', userPicker(rt, request.url)))
    }
    const merchant = findApp(rt, link.appId) as AppRecord
    if (link.callback !== null && !callbackAllowed(rt, merchant, link.callback)) {
      return errorPage(reply, err010, 403)
    }
    const template = findTemplate(rt, link.templateId)
    const fields = claimForm(rt, link, user.userId)
    const inputs = fields
      .map(
        (f) =>
          `<label for="${esc(f.field)}">${esc(f.label)}${f.required ? ' *' : ''}</label><input id="${esc(f.field)}" name="${esc(f.field)}" value="${esc(f.value)}"${f.required ? ' required' : ''}>`,
      )
      .join('')
    return html(
      reply,
      page(
        '领取会员卡',
        `${cardFace(rt, undefined, template)}<form class="panel" method="post" action="/wallet/activecard.htm" data-testid="claim-form">
<input type="hidden" name="apply_id" value="${esc(link.applyId)}"><p class="muted">${esc(user.name)},商家将获取以下信息</p>${inputs}
<label class="agree"><input type="checkbox" name="agree" value="1" required> 同意《会员卡服务协议》并授权商家获取以上信息</label>
<button class="btn" type="submit">领取会员卡</button></form>`,
        { back: '/wallet' },
      ),
    )
  })

  app.post('/wallet/activecard.htm', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string>
    const user = currentUser(rt, request)
    if (user === undefined) {
      return reply.redirect(
        `/wallet/activecard.htm?apply_id=${encodeURIComponent(body.apply_id ?? '')}`,
      )
    }
    if (body.agree !== '1') {
      return errorPage(reply, '请先同意会员卡服务协议')
    }
    const link = findClaimLink(rt, body.apply_id ?? '')
    const { apply_id: _a, agree: _g, ...form } = body
    const result = submitClaim(rt, link, user.userId, form)
    if (isSpiTemplate(rt, link.templateId)) {
      // 3.1 极速版: the card opens here, through the merchant's SPI; no redirect.
      const spi = await claimBySpi(rt, link, user.userId, result.infos)
      return spi.card !== null
        ? reply.redirect(`/wallet/cards/${encodeURIComponent(spi.card.bizCardNo)}`)
        : errorPage(reply, '商家未能办理会员卡,请稍后重试')
    }
    if (result.redirectUrl !== null) {
      return reply.redirect(result.redirectUrl)
    }
    return html(
      reply,
      page(
        '领取会员卡',
        `<div class="panel">已提交,请返回商家完成开卡。<p class="muted">auth_code: ${esc(result.authCode)}</p></div><a class="btn" href="/wallet/cards">进入卡包</a>`,
      ),
    )
  })

  app.get('/wallet/cards', async (request, reply) => {
    const user = currentUser(rt, request)
    if (user === undefined) {
      return html(reply, page('卡包', userPicker(rt, '/wallet/cards')))
    }
    const cards = listCards(rt, "user_id = ? and status = 'ACTIVE'", user.userId)
    const faces = cards
      .map((c) => cardFace(rt, c, findTemplate(rt, c.templateId), `/wallet/cards/${c.bizCardNo}`))
      .join('')
    return html(
      reply,
      page(
        '卡包',
        `<p class="muted">${esc(user.name)} 的会员卡(${cards.length})</p><div data-testid="card-bag">${faces || '<div class="panel muted">卡包里还没有会员卡</div>'}</div>`,
        { back: '/wallet' },
      ),
    )
  })

  app.get('/wallet/cards/:bizCardNo', async (request, reply) => {
    const { bizCardNo } = request.params as { bizCardNo: string }
    const user = currentUser(rt, request)
    const card = findCard(rt, bizCardNo)
    if (card === undefined || user === undefined || card.userId !== user.userId) {
      return errorPage(reply, '会员卡不存在', 404)
    }
    const shown = showCard(rt, bizCardNo)
    const template = findTemplate(rt, card.templateId)
    const refresh =
      shown.code.dynamic && shown.code.value === null
        ? '<meta http-equiv="refresh" content="1">'
        : ''
    return html(
      reply,
      page(
        styleOf(rt, template).name,
        `${refresh}${cardFace(rt, shown.card, template)}${await codeHtml(shown.code)}${columnsHtml(shown.card, template)}${messagesHtml(rt, shown.card)}${actionsHtml(template)}${shopsHtml(rt, template, user)}
<form method="post" action="/wallet/cards/${esc(bizCardNo)}/remove"><button class="btn danger" type="submit">删除会员卡</button></form>`,
        { back: '/wallet/cards' },
      ),
    )
  })

  app.post('/wallet/cards/:bizCardNo/remove', async (request, reply) => {
    const { bizCardNo } = request.params as { bizCardNo: string }
    const user = currentUser(rt, request)
    const card = findCard(rt, bizCardNo)
    if (card === undefined || user === undefined || card.userId !== user.userId) {
      return errorPage(reply, '会员卡不存在', 404)
    }
    removeCard(rt, bizCardNo)
    return reply.redirect('/wallet/cards')
  })

  app.get('/wallet/pay', async (request, reply) => {
    const user = currentUser(rt, request)
    if (user === undefined) {
      return html(reply, page('付款', userPicker(rt, '/wallet/pay')))
    }
    const apps = (
      rt.db.prepare('select data from apps order by rowid').all() as { data: string }[]
    ).map((r) => json<AppRecord>(r.data))
    const shops = (
      rt.db.prepare('select data from shops order by rowid').all() as { data: string }[]
    ).map((r) => json<ShopRecord>(r.data))
    return html(
      reply,
      page(
        '付款',
        `<form class="panel" method="post" action="/wallet/pay"><label for="appId">商家</label><select id="appId" name="appId">${apps.map((a) => `<option value="${esc(a.appId)}">${esc(a.appId)}</option>`).join('')}</select>
<label for="shopId">门店</label><input id="shopId" name="shopId" list="shops"><datalist id="shops">${shops.map((s) => `<option value="${esc(s.shopId)}">${esc(s.name)}</option>`).join('')}</datalist>
<label for="amount">金额(元)</label><input id="amount" name="amount" inputmode="decimal" required><p></p><button class="btn" type="submit">确认付款</button></form>`,
        { back: '/wallet' },
      ),
    )
  })

  app.post('/wallet/pay', async (request, reply) => {
    const user = currentUser(rt, request)
    if (user === undefined) {
      return reply.redirect('/wallet/pay')
    }
    const body = (request.body ?? {}) as Record<string, string>
    const result = pay(rt, {
      userId: user.userId,
      appId: body.appId ?? '',
      amount: body.amount ?? '',
      ...(body.shopId ? { shopId: body.shopId } : {}),
    })
    return html(
      reply,
      page(
        '付款成功',
        `<div class="panel"><div class="row"><span>金额</span><span>¥${esc(Number(body.amount).toFixed(2))}</span></div><div class="row"><span>交易号</span><span data-testid="trade-no">${esc(result.tradeNo)}</span></div></div><a class="btn" href="/wallet">完成</a>`,
      ),
    )
  })

  app.get('/p/z/pointset/index.html', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>
    const activity = findActivityByItem(rt, q.itemId ?? '')
    if (activity === undefined) {
      return errorPage(reply, '奖品不存在', 404)
    }
    const voucher = ((activity.data.promo_tools as Record<string, unknown>[] | undefined)?.[0]
      ?.voucher ?? {}) as Record<string, unknown>
    return html(
      reply,
      page(
        '领取优惠券',
        `<div class="panel"><h3>${esc(voucher.name ?? activity.data.name)}</h3><p>${esc(voucher.brand_name ?? '')}</p><p class="muted">${esc(voucher.desc ?? activity.data.desc ?? '')}</p>${voucher.worth_value === undefined ? '' : `<p><b>¥${esc(voucher.worth_value)}</b></p>`}</div>
<form method="post" action="/p/z/pointset/index.html"><input type="hidden" name="itemId" value="${esc(q.itemId)}"><input type="hidden" name="token" value="${esc(q.token)}"><input type="hidden" name="outBizNo" value="${esc(q.outBizNo)}"><button class="btn" type="submit">立即领取</button></form>`,
      ),
    )
  })

  app.post('/p/z/pointset/index.html', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string>
    const user = currentUser(rt, request)
    const result = claimCoupon(rt, {
      itemId: body.itemId ?? '',
      token: body.token ?? '',
      outBizNo: body.outBizNo ?? '',
      ...(user !== undefined ? { userId: user.userId } : {}),
    })
    return html(
      reply,
      page(
        '领取成功',
        `<div class="panel" data-testid="coupon-ok">优惠券已放入卡包<p class="muted">${esc(result.couponId)}</p></div><a class="btn" href="/wallet">完成</a>`,
      ),
    )
  })
}
