import {
  cardInfo,
  findCard,
  findTemplate,
  listCards,
  nextBizCardNo,
  notifyCardChange,
  passId,
  saveCard,
  saveTemplate,
  schemaUrl,
  templateLevels,
} from '../cards.js'
import type { CardRecord, TemplateRecord } from '../cards.js'
import { optArray, optObject, optString, reqString, requireUserToken } from '../gateway/context.js'
import type { CallContext, MethodDef } from '../gateway/context.js'
import { businessError, GatewayCode, GatewayError, invalidParameter } from '../gateway/errors.js'
import { identityFields, openIdOf } from '../identity.js'
import { alipayTime, hexToken, imageId, longId, parseAlipayTime } from '../ids.js'
import type { Runtime } from '../runtime.js'
import { json } from '../store.js'

/** Open-card form fields (OpenFormFieldDO `common_fields`, §3.3) and their labels in the wallet. */
export const formFieldLabels: Record<string, string> = {
  OPEN_FORM_FIELD_MOBILE: '手机号',
  OPEN_FORM_FIELD_GENDER: '性别',
  OPEN_FORM_FIELD_NAME: '姓名',
  OPEN_FORM_FIELD_BIRTHDAY: '生日',
  OPEN_FORM_FIELD_BIRTHDAY_WITH_YEAR: '生日(含年份)',
  OPEN_FORM_FIELD_IDCARD: '身份证',
  OPEN_FORM_FIELD_CERT_TYPE: '证件类型',
  OPEN_FORM_FIELD_CERT_NO: '证件号',
  OPEN_FORM_FIELD_EMAIL: '邮箱',
  OPEN_FORM_FIELD_ADDRESS: '地址',
  OPEN_FORM_FIELD_CITY: '城市',
  OPEN_FORM_FIELD_IS_STUDENT: '是否学生认证',
  OPEN_FORM_FIELD_MEMBER_GRADE: '会员等级',
}

const writeOffTypes = new Set([
  'qrcode',
  'barcode',
  'dqrcode',
  'dbarcode',
  'mdqrcode',
  'mdbarcode',
  'text',
  'none',
])
const amountPattern = /^\d+(\.\d{1,2})?$/
const imageTypes = new Set(['jpg', 'jpeg', 'png', 'gif', 'bmp', 'mp4'])

function ownTemplate(ctx: CallContext, templateId: string, field = 'template_id'): TemplateRecord {
  const template = findTemplate(ctx.rt, templateId)
  if (template === undefined || template.appId !== ctx.app.appId) {
    throw businessError('TEMPLATE_NOT_EXIST', `模板不存在:${field}=${templateId}`)
  }
  return template
}

function imageExists(ctx: CallContext, id: string): boolean {
  return (
    ctx.rt.db
      .prepare('select 1 from images where image_id = ? and app_id = ?')
      .get(id, ctx.app.appId) !== undefined
  )
}

/** Checks the template fields the reference names (§3.2); shared by create and modify. */
function validateTemplateFields(
  ctx: CallContext,
  biz: Record<string, unknown>,
  creating: boolean,
): void {
  const strict = ctx.rt.behaviour.strictTemplate
  const writeOff = optString(biz, 'write_off_type')
  if (writeOff !== undefined && !writeOffTypes.has(writeOff)) {
    throw invalidParameter(`write_off_type 取值不合法:${writeOff}`)
  }
  if (strict && creating && writeOff === undefined) {
    throw invalidParameter('write_off_type 不能为空')
  }
  const style = optObject(biz, 'template_style_info')
  if (strict && creating && style === undefined) {
    throw invalidParameter('template_style_info 不能为空')
  }
  if (style !== undefined) {
    if (strict) {
      for (const key of ['card_show_name', 'logo_id', 'background_id']) {
        reqString(style, key, 'template_style_info.')
      }
    }
    for (const key of ['logo_id', 'background_id', 'banner_img_id', 'slogan_img_id']) {
      const id = optString(style, key)
      if (id !== undefined && !imageExists(ctx, id)) {
        throw invalidParameter(
          `template_style_info.${key} 图片不存在,请先调用 alipay.offline.material.image.upload 上传:${id}`,
        )
      }
    }
  }
  const suffix = optString(biz, 'biz_no_suffix_len')
  if (creating || suffix !== undefined) {
    const len = Number(suffix)
    if (!Number.isInteger(len) || len < 8 || len > 32) {
      throw invalidParameter('biz_no_suffix_len 取值范围为[8,32]')
    }
    const prefix = optString(biz, 'biz_no_prefix') ?? ''
    if (prefix.length > 10) {
      throw invalidParameter('biz_no_prefix 长度不能超过10')
    }
    if (prefix.length + len > 32) {
      throw invalidParameter('biz_no_prefix 与 biz_no_suffix_len 总长度不能超过32')
    }
  }
  const actions = optArray(biz, 'card_action_list')
  if (actions.length > 4) {
    throw invalidParameter('卡行动点 card_action_list 最多4项')
  }
  let onList = 0
  for (const action of actions) {
    const a = (action ?? {}) as Record<string, unknown>
    reqString(a, 'code', 'card_action_list.')
    reqString(a, 'text', 'card_action_list.')
    const mini = optObject(a, 'mini_app_url')
    if (optString(a, 'url_type') === 'miniAppUrl') {
      if (mini === undefined) {
        throw invalidParameter('card_action_list.mini_app_url 不能为空')
      }
      reqString(mini, 'mini_app_id', 'card_action_list.mini_app_url.')
    } else {
      reqString(a, 'url', 'card_action_list.')
    }
    if (mini !== undefined && optString(mini, 'display_on_list') === 'true') {
      onList += 1
    }
  }
  if (onList !== 0 && onList !== 2) {
    throw invalidParameter('卡行动点 display_on_list 只能配置 2 项或 0 项')
  }
  for (const column of optArray(biz, 'column_info_list')) {
    const c = (column ?? {}) as Record<string, unknown>
    reqString(c, 'code', 'column_info_list.')
    reqString(c, 'title', 'column_info_list.')
    const op = optString(c, 'operate_type')
    if (op === 'openWeb' && optString(optObject(c, 'more_info') ?? {}, 'url') === undefined) {
      throw invalidParameter('column_info_list.more_info.url 不能为空(openWeb)')
    }
  }
  for (const level of optArray(biz, 'card_level_conf')) {
    reqString((level ?? {}) as Record<string, unknown>, 'level', 'card_level_conf.')
  }
  if (writeOff === 'mdqrcode' || writeOff === 'mdbarcode') {
    const conf = optObject(biz, 'mdcode_notify_conf')
    if (conf === undefined) {
      throw invalidParameter('商户动态码模板 mdcode_notify_conf 不能为空')
    }
    const url = reqString(conf, 'url', 'mdcode_notify_conf.')
    if (ctx.rt.behaviour.requireHttpsMdcodeUrl && !url.startsWith('https://')) {
      throw invalidParameter('mdcode_notify_conf.url 必须为 https 地址')
    }
  }
}

/** Reads `fields.required`/`fields.optional`: a JSON string (v2 SDK model) or an object (§3.3). */
function readFieldList(value: unknown, name: string): string[] {
  if (value === undefined || value === null || value === '') {
    return []
  }
  let parsed: unknown = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch {
      throw invalidParameter(`fields.${name} 不是合法的JSON`)
    }
  }
  const list = (parsed as Record<string, unknown> | null)?.common_fields
  if (!Array.isArray(list) || list.some((f) => typeof f !== 'string')) {
    throw invalidParameter(`fields.${name} 须为 {"common_fields":[...]}`)
  }
  for (const field of list as string[]) {
    if (!(field in formFieldLabels)) {
      throw invalidParameter(`fields.${name} 含未知字段:${field}`)
    }
  }
  return list as string[]
}

function templateView(template: TemplateRecord): Record<string, unknown> {
  const { card_level_conf: levels, ...rest } = template.data
  return {
    ...rest,
    ...(levels !== undefined ? { card_level_confs: levels } : {}),
    template_id: template.templateId,
  }
}

function checkAmounts(info: Record<string, unknown>, where: string): void {
  for (const key of ['point', 'balance']) {
    const value = optString(info, key)
    if (value !== undefined && !amountPattern.test(value)) {
      throw invalidParameter(`${where}.${key} 格式错误:${value}`)
    }
  }
}

function checkLevel(template: TemplateRecord, level: string | undefined, where: string): void {
  if (level === undefined) {
    return
  }
  const levels = templateLevels(template)
  if (!levels.includes(level)) {
    throw invalidParameter(`${where}.level 在模板的 card_level_conf 中不存在:${level}`)
  }
}

function cardByTarget(ctx: CallContext): CardRecord {
  const no = reqString(ctx.biz, 'target_card_no')
  const type = reqString(ctx.biz, 'target_card_no_type')
  let card: CardRecord | undefined
  if (type === 'BIZ_CARD') {
    card = findCard(ctx.rt, no)
  } else if (type === 'EXTERNAL_CARD') {
    const templateId = optString(ctx.biz, 'template_id')
    card = listCards(ctx.rt, 'app_id = ? and external_card_no = ?', ctx.app.appId, no)
      .filter((c) => templateId === undefined || c.templateId === templateId)
      .sort((a, b) => Number(b.status === 'ACTIVE') - Number(a.status === 'ACTIVE'))[0]
  } else if (type === 'D_QR_CODE' || type === 'D_BAR_CODE') {
    const row = ctx.rt.db
      .prepare('select biz_card_no, expires_at from dynamic_codes where code = ?')
      .get(no) as { biz_card_no: string; expires_at: number } | undefined
    if (row === undefined || row.expires_at < Date.now()) {
      throw businessError('CODE_EXPIRED', '动态码不存在或已过期')
    }
    card = findCard(ctx.rt, row.biz_card_no)
  } else {
    throw invalidParameter(`target_card_no_type 取值不合法:${type}`)
  }
  if (card === undefined || card.appId !== ctx.app.appId) {
    throw businessError('CARD_NOT_EXIST', `会员卡不存在:${no}`)
  }
  return card
}

const imageUpload: MethodDef = {
  product: null,
  run(ctx) {
    const type = ctx.params.image_type
    const name = ctx.params.image_name
    const file = ctx.files.get('image_content')
    if (type === undefined || type === '') {
      throw businessError('INVALID_PARAM', 'image_type 不能为空')
    }
    if (name === undefined || name === '') {
      throw businessError('INVALID_PARAM', 'image_name 不能为空')
    }
    if (file === undefined || file.data.length === 0) {
      throw businessError('INVALID_PARAM', 'image_content 不能为空')
    }
    if (!imageTypes.has(type.toLowerCase())) {
      throw businessError('INVALID_PARAM', `不支持的图片格式:${type}`)
    }
    const limit = type === 'mp4' ? 50 * 1024 * 1024 : 5 * 1024 * 1024
    if (file.data.length > limit) {
      throw businessError('INVALID_PARAM', '文件大小超过限制')
    }
    const id = imageId()
    ctx.rt.db
      .prepare(
        'insert into images (image_id, app_id, image_type, image_name, bytes, created_at) values (?, ?, ?, ?, ?, ?)',
      )
      .run(id, ctx.app.appId, type.toLowerCase(), name, file.data, new Date().toISOString())
    return { image_id: id, image_url: `${ctx.rt.publicUrl}/images/${id}` }
  },
}

const templateCreate: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const requestId = reqString(ctx.biz, 'request_id')
    const cardType = reqString(ctx.biz, 'card_type')
    if (cardType !== 'OUT_MEMBER_CARD') {
      throw invalidParameter(`card_type 只支持 OUT_MEMBER_CARD:${cardType}`)
    }
    const existing = ctx.rt.db
      .prepare('select template_id from templates where app_id = ? and request_id = ?')
      .get(ctx.app.appId, requestId) as { template_id: string } | undefined
    // request_id is the idempotency key: a retried create answers the first template.
    if (existing !== undefined) {
      return { template_id: existing.template_id }
    }
    validateTemplateFields(ctx, ctx.biz, true)
    const { request_id: _r, ...data } = ctx.biz
    const templateId = longId()
    ctx.rt.db
      .prepare(
        'insert into templates (template_id, app_id, request_id, data, notify_url, created_at) values (?, ?, ?, ?, ?, ?)',
      )
      .run(
        templateId,
        ctx.app.appId,
        requestId,
        JSON.stringify(data),
        ctx.params.notify_url ?? null,
        new Date().toISOString(),
      )
    return { template_id: templateId }
  },
}

const templateModify: MethodDef = {
  product: 'member_card',
  run(ctx) {
    reqString(ctx.biz, 'request_id')
    const template = ownTemplate(ctx, reqString(ctx.biz, 'template_id'))
    validateTemplateFields(ctx, ctx.biz, false)
    const {
      request_id: _r,
      template_id: _t,
      field_rule_list: _ignored,
      card_type: _c,
      ...changes
    } = ctx.biz
    // shop_ids can only grow (FAQ); field_rule_list changes are ignored (API overview).
    if (Array.isArray(changes.shop_ids)) {
      const before = Array.isArray(template.data.shop_ids)
        ? (template.data.shop_ids as unknown[])
        : []
      changes.shop_ids = [...new Set([...before, ...changes.shop_ids])]
    }
    template.data = { ...template.data, ...changes }
    if (ctx.params.notify_url !== undefined && ctx.params.notify_url !== '') {
      template.notifyUrl = ctx.params.notify_url
    }
    saveTemplate(ctx.rt, template)
    return {}
  },
}

const templateQuery: MethodDef = {
  product: 'member_card',
  run(ctx) {
    return templateView(ownTemplate(ctx, reqString(ctx.biz, 'template_id')))
  },
}

const formTemplateSet: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const template = ownTemplate(ctx, reqString(ctx.biz, 'template_id'))
    const fields = optObject(ctx.biz, 'fields')
    if (fields === undefined) {
      throw invalidParameter('fields 不能为空')
    }
    const required = readFieldList(fields.required, 'required')
    const optional = readFieldList(fields.optional, 'optional')
    if (required.length === 0) {
      throw invalidParameter('fields.required 必须填一个')
    }
    const all = [...required, ...optional]
    if (new Set(all).size !== all.length) {
      throw invalidParameter('fields.required 与 fields.optional 不能重复')
    }
    if (all.length > 20) {
      throw invalidParameter('表单字段最多20个')
    }
    if (
      all.includes('OPEN_FORM_FIELD_IDCARD') &&
      all.some((f) => f === 'OPEN_FORM_FIELD_CERT_TYPE' || f === 'OPEN_FORM_FIELD_CERT_NO')
    ) {
      throw invalidParameter(
        'OPEN_FORM_FIELD_IDCARD 不能与 OPEN_FORM_FIELD_CERT_TYPE/OPEN_FORM_FIELD_CERT_NO 同时使用',
      )
    }
    template.form = { required, optional }
    saveTemplate(ctx.rt, template)
    return {}
  },
}

const activateUrlApply: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const template = ownTemplate(ctx, reqString(ctx.biz, 'template_id'))
    const callback = optString(ctx.biz, 'callback')
    if (callback !== undefined) {
      let url: URL
      try {
        url = new URL(callback)
      } catch {
        throw invalidParameter(`callback 不是合法的URL:${callback}`)
      }
      if (url.search !== '') {
        throw invalidParameter('callback 不能带参数')
      }
    }
    const outString = optString(ctx.biz, 'out_string')
    if (outString !== undefined && outString.length > 256) {
      throw invalidParameter('out_string 长度不能超过256')
    }
    const applyId = hexToken(12)
    ctx.rt.db
      .prepare(
        'insert into activate_urls (apply_id, app_id, template_id, callback, out_string, follow_app_id, created_at) values (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        applyId,
        ctx.app.appId,
        template.templateId,
        callback ?? null,
        outString ?? null,
        optString(ctx.biz, 'follow_app_id') ?? null,
        new Date().toISOString(),
      )
    const link = new URL(`${ctx.rt.publicUrl}/wallet/activecard.htm`)
    link.searchParams.set('app_id', ctx.app.appId)
    link.searchParams.set('template_id', template.templateId)
    link.searchParams.set('apply_id', applyId)
    if (callback !== undefined) {
      link.searchParams.set('callback', callback)
    }
    if (outString !== undefined) {
      link.searchParams.set('out_string', outString)
    }
    // Alipay returns the link URL-encoded; callers decode it before use (§3.4).
    return { apply_card_url: encodeURIComponent(link.toString()) }
  },
}

function oauthError(ctx: CallContext, subCode: string, subMsg: string): never {
  throw new GatewayError(GatewayCode.Invalid, subCode, subMsg)
}

const oauthToken: MethodDef = {
  product: null,
  run(ctx) {
    const grantType = ctx.params.grant_type
    const rt = ctx.rt
    let userId: string
    if (grantType === 'authorization_code') {
      const code = ctx.params.code ?? ''
      const row = rt.db
        .prepare('select app_id, user_id, used, expires_at from auth_codes where code = ?')
        .get(code) as
        { app_id: string; user_id: string; used: number; expires_at: number } | undefined
      if (row === undefined || row.used === 1 || row.expires_at < Date.now()) {
        oauthError(ctx, 'isv.code-invalid', '授权码(auth_code)错误、状态不对或过期')
      }
      if (row.app_id !== ctx.app.appId) {
        oauthError(ctx, 'isv.unmatched-app-id', '授权码不属于当前应用')
      }
      // Auth codes are single-use: a replayed callback cannot mint a second token.
      rt.db.prepare('update auth_codes set used = 1 where code = ?').run(code)
      userId = row.user_id
    } else if (grantType === 'refresh_token') {
      const refresh = ctx.params.refresh_token ?? ''
      const row = rt.db
        .prepare('select app_id, user_id, refreshed from tokens where refresh_token = ?')
        .get(refresh) as { app_id: string; user_id: string; refreshed: number } | undefined
      if (row === undefined || row.app_id !== ctx.app.appId) {
        oauthError(ctx, 'isv.refresh-token-invalid', '刷新令牌无效')
      }
      if (row.refreshed === 1) {
        oauthError(ctx, 'isv.refreshed-token-invalid', '刷新令牌已使用')
      }
      rt.db.prepare('update tokens set refreshed = 1 where refresh_token = ?').run(refresh)
      userId = row.user_id
    } else {
      oauthError(ctx, 'isv.grant-type-invalid', `grant_type 无效:${grantType ?? ''}`)
    }
    const accessToken = `authusrB${hexToken(16)}`
    const refreshToken = `authusrB${hexToken(16)}`
    const ttl = rt.behaviour.accessTokenTtlSeconds
    rt.db
      .prepare(
        'insert into tokens (access_token, refresh_token, app_id, user_id, expires_at) values (?, ?, ?, ?, ?)',
      )
      .run(accessToken, refreshToken, ctx.app.appId, userId, Date.now() + ttl * 1000)
    return {
      // user_id, open_id or both, as the app's OpenID stage says.
      ...identityFields(ctx.app, ctx.app.appId, userId),
      access_token: accessToken,
      expires_in: String(ttl),
      refresh_token: refreshToken,
      re_expires_in: String(ttl * 2),
      auth_start: alipayTime(),
    }
  },
}

const activateFormQuery: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const userId = requireUserToken(ctx)
    const bizType = reqString(ctx.biz, 'biz_type')
    if (bizType !== 'MEMBER_CARD') {
      throw invalidParameter(`biz_type 只支持 MEMBER_CARD:${bizType}`)
    }
    const templateId = reqString(ctx.biz, 'template_id')
    const requestId = reqString(ctx.biz, 'request_id')
    const row = ctx.rt.db
      .prepare(
        'select user_id, template_id, infos from submissions where request_id = ? and app_id = ?',
      )
      .get(requestId, ctx.app.appId) as
      { user_id: string; template_id: string; infos: string } | undefined
    if (row === undefined || row.template_id !== templateId || row.user_id !== userId) {
      throw businessError('FORM_NOT_EXIST', '未查询到用户提交的表单信息')
    }
    return { infos: row.infos }
  },
}

const cardOpen: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const rt = ctx.rt
    const userId = requireUserToken(ctx)
    const outSerialNo = reqString(ctx.biz, 'out_serial_no')
    const template = ownTemplate(ctx, reqString(ctx.biz, 'card_template_id'), 'card_template_id')
    const userInfo = optObject(ctx.biz, 'card_user_info')
    if (userInfo === undefined) {
      throw invalidParameter('card_user_info 不能为空')
    }
    const idType = reqString(userInfo, 'user_uni_id_type', 'card_user_info.')
    if (idType !== 'UID') {
      throw invalidParameter(`card_user_info.user_uni_id_type 只支持 UID:${idType}`)
    }
    const uid = optString(userInfo, 'user_uni_id')
    const openId = optString(userInfo, 'open_id')
    if (uid === undefined && openId === undefined) {
      throw invalidParameter('card_user_info.user_uni_id 不能为空')
    }
    if (
      (uid !== undefined && uid !== userId) ||
      (uid === undefined && openId !== undefined && openId !== openIdOf(ctx.app.appId, userId))
    ) {
      // The FAQ's account error for a user who did not authorise this token.
      throw businessError('unknown-sub-code', '未知的错误码isv.user-auth-fail')
    }
    const ext = optObject(ctx.biz, 'card_ext_info')
    if (ext === undefined) {
      throw invalidParameter('card_ext_info 不能为空')
    }
    const externalCardNo = reqString(ext, 'external_card_no', 'card_ext_info.')
    if (externalCardNo.length > 64) {
      throw invalidParameter('card_ext_info.external_card_no 长度不能超过64')
    }
    checkAmounts(ext, 'card_ext_info')
    checkLevel(template, optString(ext, 'level'), 'card_ext_info')
    const replay = rt.db
      .prepare('select biz_card_no from cards where app_id = ? and out_serial_no = ?')
      .get(ctx.app.appId, outSerialNo) as { biz_card_no: string } | undefined
    if (replay !== undefined) {
      // out_serial_no is the merchant's idempotency key: a retried open answers the same card.
      const card = findCard(rt, replay.biz_card_no)
      if (card !== undefined) {
        return { card_info: cardInfo(card) }
      }
    }
    const held = listCards(
      rt,
      "template_id = ? and user_id = ? and status = 'ACTIVE'",
      template.templateId,
      userId,
    )
    if (held.length > 0) {
      throw businessError('CARD_EXIST', '用户已领取该模板的会员卡,同一模板每个用户只能领取一张')
    }
    const now = Date.now()
    const data: Record<string, unknown> = {
      external_card_no: externalCardNo,
      open_date: optString(ext, 'open_date') ?? alipayTime(now),
      valid_date: optString(ext, 'valid_date') ?? alipayTime(now + 10 * 365 * 86400_000),
    }
    for (const key of ['level', 'point', 'balance', 'front_image_id', 'custom_assets']) {
      const value = optString(ext, key)
      if (value !== undefined) {
        data[key] = value
      }
    }
    if (Array.isArray(ext.front_text_list)) {
      data.front_text_list = ext.front_text_list.slice(0, 4)
    }
    const member = optObject(ctx.biz, 'member_ext_info')
    if (member !== undefined) {
      data.member_ext_info = member
    }
    const channel = optString(ctx.biz, 'open_card_channel')
    const channelId = optString(ctx.biz, 'open_card_channel_id')
    const bizCardNo = nextBizCardNo(rt, template)
    rt.db
      .prepare(
        `insert into cards (biz_card_no, app_id, template_id, user_id, external_card_no, out_serial_no, status, data, created_at)
         values (?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?)`,
      )
      .run(
        bizCardNo,
        ctx.app.appId,
        template.templateId,
        userId,
        externalCardNo,
        outSerialNo,
        JSON.stringify(data),
        new Date(now).toISOString(),
      )
    const card = findCard(rt, bizCardNo) as CardRecord
    notifyCardChange(rt, card, 'open')
    return {
      card_info: cardInfo(card),
      ...(channel !== undefined ? { open_card_channel: channel } : {}),
      ...(channelId !== undefined ? { open_card_channel_id: channelId } : {}),
    }
  },
}

const cardQuery: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const card = cardByTarget(ctx)
    const userInfo = optObject(ctx.biz, 'card_user_info')
    const uid = userInfo === undefined ? undefined : optString(userInfo, 'user_uni_id')
    const openId = userInfo === undefined ? undefined : optString(userInfo, 'open_id')
    if (
      (uid !== undefined && uid !== card.userId) ||
      (openId !== undefined && openId !== openIdOf(card.appId, card.userId))
    ) {
      throw businessError('CARD_NOT_EXIST', '会员卡不存在')
    }
    const schema = schemaUrl(ctx.rt, card)
    return {
      card_info: { ...cardInfo(card), template_id: card.templateId },
      schema_url: schema,
      ...(schema !== '' ? { pass_id: passId(card) } : {}),
    }
  },
}

const cardUpdate: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const rt = ctx.rt
    const card = cardByTarget(ctx)
    reqString(ctx.biz, 'occur_time')
    const info = optObject(ctx.biz, 'card_info')
    if (info === undefined) {
      throw invalidParameter('card_info 不能为空')
    }
    if (card.status === 'DELETED') {
      throw businessError('CARD_STATUS_INVALID', '会员卡已删除')
    }
    checkAmounts(info, 'card_info')
    let template = findTemplate(rt, card.templateId) as TemplateRecord
    const target = optString(info, 'template_id')
    if (target !== undefined && target !== card.templateId) {
      template = ownTemplate(ctx, target, 'card_info.template_id')
      card.templateId = target
    }
    checkLevel(template, optString(info, 'level'), 'card_info')
    // open_date and valid_date cannot be changed by update (§3.7).
    for (const key of ['level', 'point', 'balance', 'front_image_id', 'custom_assets']) {
      const value = optString(info, key)
      if (value !== undefined) {
        card.data[key] = value
      }
    }
    if (Array.isArray(info.front_text_list)) {
      card.data.front_text_list = info.front_text_list.slice(0, 4)
    }
    const mdcode = optObject(info, 'mdcode_info')
    if (mdcode !== undefined) {
      const status = reqString(mdcode, 'code_status', 'card_info.mdcode_info.')
      if (status === 'SUCCESS') {
        reqString(mdcode, 'code_value', 'card_info.mdcode_info.')
        reqString(mdcode, 'expire_time', 'card_info.mdcode_info.')
      } else if (status !== 'FAIL_RETRY' && status !== 'FAIL_NOT_RETRY') {
        throw invalidParameter(`card_info.mdcode_info.code_status 取值不合法:${status}`)
      }
      card.data.mdcode_info = mdcode
    }
    saveCard(rt, card)
    if (mdcode !== undefined && optString(mdcode, 'code_status') === 'FAIL_RETRY') {
      requestMdcode(rt, card)
    }
    return {}
  },
}

const cardDelete: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const rt = ctx.rt
    const outSerialNo = reqString(ctx.biz, 'out_serial_no')
    const previous = rt.db
      .prepare('select biz_serial_no from card_deletes where app_id = ? and out_serial_no = ?')
      .get(ctx.app.appId, outSerialNo) as { biz_serial_no: string } | undefined
    if (previous !== undefined) {
      return { biz_serial_no: previous.biz_serial_no }
    }
    const card = cardByTarget(ctx)
    const reason = optString(ctx.biz, 'reason_code')
    if (reason === undefined && rt.behaviour.requireDeleteReasonCode) {
      throw invalidParameter('reason_code 不能为空')
    }
    if (reason !== undefined && !['USER_UNBUND', 'CANCEL', 'PRESENT'].includes(reason)) {
      throw invalidParameter(`reason_code 取值不合法:${reason}`)
    }
    if (card.status === 'DELETED') {
      throw businessError('CARD_NOT_EXIST', '会员卡已删除')
    }
    card.status = 'DELETED'
    saveCard(rt, card)
    const bizSerialNo = longId()
    rt.db
      .prepare(
        'insert into card_deletes (app_id, out_serial_no, biz_card_no, biz_serial_no) values (?, ?, ?, ?)',
      )
      .run(ctx.app.appId, outSerialNo, card.bizCardNo, bizSerialNo)
    notifyCardChange(rt, card, 'delete', reason)
    return { biz_serial_no: bizSerialNo }
  },
}

/** A card message (`alipay.marketing.card.message.notify`) as the emulator keeps it for the wallet. */
export interface CardMessageRecord {
  notifyNo: string
  bizCardNo: string
  notifyType: string
  expiredPoint: string
  expiredTime: string
  occurTime: string
  createdAt: string
}

/** The messages sent to a card, oldest first. */
export function listCardMessages(rt: Runtime, bizCardNo: string): CardMessageRecord[] {
  const rows = rt.db
    .prepare(
      'select notify_no, biz_card_no, notify_type, info, occur_time, created_at from card_messages where biz_card_no = ? order by rowid',
    )
    .all(bizCardNo) as {
    notify_no: string
    biz_card_no: string
    notify_type: string
    info: string
    occur_time: string
    created_at: string
  }[]
  return rows.map((r) => {
    const info = json<Record<string, string>>(r.info)
    return {
      notifyNo: r.notify_no,
      bizCardNo: r.biz_card_no,
      notifyType: r.notify_type,
      expiredPoint: info.expired_point ?? '',
      expiredTime: info.expired_time ?? '',
      occurTime: r.occur_time,
      createdAt: r.created_at,
    }
  })
}

/**
 * `alipay.marketing.card.message.notify` (会员积分过期提醒, 2024): only `POINT_REMIND` is documented;
 * `notify_info` is a JSON string with `expired_point` and `expired_time`; `notify_no` is the
 * idempotency key (the same number again answers success and shows the message once).
 */
const cardMessageNotify: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const rt = ctx.rt
    const notifyNo = reqString(ctx.biz, 'notify_no')
    const previous = rt.db
      .prepare('select 1 from card_messages where app_id = ? and notify_no = ?')
      .get(ctx.app.appId, notifyNo)
    if (previous !== undefined) {
      return {}
    }
    const card = cardByTarget(ctx)
    if (card.status === 'DELETED') {
      throw businessError('CARD_STATUS_INVALID', '会员卡已删除')
    }
    const type = reqString(ctx.biz, 'notify_type')
    if (type !== 'POINT_REMIND') {
      throw invalidParameter(`notify_type 取值不合法:${type}`)
    }
    const occurTime = reqString(ctx.biz, 'occur_time')
    if (parseAlipayTime(occurTime) === undefined) {
      throw invalidParameter('occur_time 格式须为 yyyy-MM-dd HH:mm:ss')
    }
    const text = reqString(ctx.biz, 'notify_info')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw invalidParameter('notify_info 须为 JSON 对象字符串')
    }
    const info = parsed as Record<string, unknown>
    const point = optString(info, 'expired_point')
    if (point === undefined || !/^\d+(\.\d{1,2})?$/.test(point) || Number(point) <= 0) {
      throw invalidParameter('notify_info.expired_point 须为正数')
    }
    const time = optString(info, 'expired_time')
    if (time === undefined || parseAlipayTime(time) === undefined) {
      throw invalidParameter('notify_info.expired_time 格式须为 yyyy-MM-dd HH:mm:ss')
    }
    rt.db
      .prepare(
        'insert into card_messages (app_id, notify_no, biz_card_no, notify_type, info, occur_time, created_at) values (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        ctx.app.appId,
        notifyNo,
        card.bizCardNo,
        type,
        JSON.stringify({ expired_point: point, expired_time: time }),
        occurTime,
        new Date().toISOString(),
      )
    return {}
  },
}

/**
 * The merchant-dynamic-code notification (§3.11): sent when the user opens a card whose template uses
 * mdqrcode/mdbarcode: `BizCardNo` and every key of `ext_params`, as the docs describe.
 */
export function requestMdcode(rt: Runtime, card: CardRecord): string | undefined {
  const template = findTemplate(rt, card.templateId)
  const conf = template?.data.mdcode_notify_conf as Record<string, unknown> | undefined
  const url = conf === undefined ? undefined : optString(conf, 'url')
  if (url === undefined) {
    return undefined
  }
  const extra: Record<string, string> = {}
  const ext = conf?.ext_params
  if (typeof ext === 'string' && ext !== '') {
    try {
      for (const [k, v] of Object.entries(JSON.parse(ext) as Record<string, unknown>)) {
        extra[k] = String(v)
      }
    } catch {
      for (const [k, v] of new URLSearchParams(ext)) {
        extra[k] = v
      }
    }
  } else if (ext !== null && typeof ext === 'object') {
    for (const [k, v] of Object.entries(ext as Record<string, unknown>)) {
      extra[k] = String(v)
    }
  }
  // Only what the docs name: BizCardNo and the template's ext_params. No app id, so a merchant
  // system that relies on one fails here as it would against real Alipay.
  return rt.notifier.send('mdcode', card.appId, url, { ...extra, BizCardNo: card.bizCardNo })
}

/** The member-card methods by name. */
export const cardMethods: Record<string, MethodDef> = {
  'alipay.offline.material.image.upload': imageUpload,
  'alipay.marketing.card.template.create': templateCreate,
  'alipay.marketing.card.template.modify': templateModify,
  'alipay.marketing.card.template.query': templateQuery,
  'alipay.marketing.card.formtemplate.set': formTemplateSet,
  'alipay.marketing.card.activateurl.apply': activateUrlApply,
  'alipay.system.oauth.token': oauthToken,
  'alipay.marketing.card.activateform.query': activateFormQuery,
  'alipay.marketing.card.open': cardOpen,
  'alipay.marketing.card.query': cardQuery,
  'alipay.marketing.card.update': cardUpdate,
  'alipay.marketing.card.delete': cardDelete,
  'alipay.marketing.card.message.notify': cardMessageNotify,
}
