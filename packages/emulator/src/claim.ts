import { findApp, findTemplate, findUser } from './cards.js'
import { notifySignContent, signText } from './crypto.js'
import { hexToken, digits } from './ids.js'
import { formFieldLabels } from './methods/card-methods.js'
import type { AppRecord, Runtime } from './runtime.js'

/** A claim link (from activateurl.apply) resolved against the emulator's records. */
export interface ClaimLink {
  applyId: string
  appId: string
  templateId: string
  callback: string | null
  outString: string | null
}

/** A claim the wallet refuses, with the code the user would see. */
export class ClaimError extends Error {
  override name = 'ClaimError'
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** What the wallet shows for a callback that does not match the app's 授权回调地址 (seed FAQ). */
export const err010 = '系统异常，请联系商家(ERR010)'

/** Resolves an `apply_card_url`, URL-encoded as Alipay returns it or already decoded. */
export function resolveClaimLink(rt: Runtime, applyCardUrl: string): ClaimLink {
  const text = /^https?%3A/i.test(applyCardUrl) ? decodeURIComponent(applyCardUrl) : applyCardUrl
  let applyId: string | null
  try {
    applyId = new URL(text).searchParams.get('apply_id')
  } catch {
    throw new ClaimError('INVALID_LINK', `不是有效的领卡链接:${applyCardUrl}`)
  }
  return findClaimLink(rt, applyId ?? '')
}

/** A claim link by its apply id. */
export function findClaimLink(rt: Runtime, applyId: string): ClaimLink {
  const row = rt.db
    .prepare(
      'select apply_id, app_id, template_id, callback, out_string from activate_urls where apply_id = ?',
    )
    .get(applyId) as
    | {
        apply_id: string
        app_id: string
        template_id: string
        callback: string | null
        out_string: string | null
      }
    | undefined
  if (row === undefined) {
    throw new ClaimError('INVALID_LINK', '领卡链接无效或已失效')
  }
  return {
    applyId: row.apply_id,
    appId: row.app_id,
    templateId: row.template_id,
    callback: row.callback,
    outString: row.out_string,
  }
}

function normalise(url: string): string {
  return url.replace(/\/+$/, '')
}

/** Whether a claim link's callback matches one of the app's registered callback URLs. */
export function callbackAllowed(rt: Runtime, app: AppRecord, callback: string): boolean {
  if (rt.behaviour.callbackMatch === 'origin') {
    const origin = safeOrigin(callback)
    return origin !== null && app.callbackUrls.some((u) => safeOrigin(u) === origin)
  }
  return app.callbackUrls.some((u) => normalise(u) === normalise(callback))
}

function safeOrigin(url: string): string | null {
  try {
    return new URL(url).origin
  } catch {
    return null
  }
}

const friendlyNames: Record<string, string> = {
  name: 'OPEN_FORM_FIELD_NAME',
  mobile: 'OPEN_FORM_FIELD_MOBILE',
  gender: 'OPEN_FORM_FIELD_GENDER',
  certNo: 'OPEN_FORM_FIELD_CERT_NO',
  certType: 'OPEN_FORM_FIELD_CERT_TYPE',
  idCard: 'OPEN_FORM_FIELD_IDCARD',
  birthday: 'OPEN_FORM_FIELD_BIRTHDAY',
  birthdayWithYear: 'OPEN_FORM_FIELD_BIRTHDAY_WITH_YEAR',
  email: 'OPEN_FORM_FIELD_EMAIL',
  address: 'OPEN_FORM_FIELD_ADDRESS',
  city: 'OPEN_FORM_FIELD_CITY',
}

/** The form the wallet shows for a template: its fields with values prefilled from the user's profile. */
export function claimForm(
  rt: Runtime,
  link: ClaimLink,
  userId: string,
): { field: string; label: string; required: boolean; value: string }[] {
  const template = findTemplate(rt, link.templateId)
  const user = findUser(rt, userId)
  const form = template?.form ?? { required: [], optional: [] }
  const profile: Record<string, string> = {
    OPEN_FORM_FIELD_NAME: user?.name ?? '',
    OPEN_FORM_FIELD_MOBILE: user?.mobile ?? '',
    OPEN_FORM_FIELD_GENDER: user?.gender ?? '',
    OPEN_FORM_FIELD_CERT_NO: user?.certNo ?? '',
    OPEN_FORM_FIELD_IDCARD: user?.certNo ?? '',
    OPEN_FORM_FIELD_CERT_TYPE: '0',
  }
  return [
    ...form.required.map((f) => ({ field: f, required: true })),
    ...form.optional.map((f) => ({ field: f, required: false })),
  ].map((f) => ({
    ...f,
    label: formFieldLabels[f.field] ?? f.field,
    value: profile[f.field] ?? '',
  }))
}

/**
 * The user agrees to the form: checks the callback (ERR010), records the submission that
 * activateform.query answers, issues a single-use auth code, and returns the merchant callback URL.
 */
export function submitClaim(
  rt: Runtime,
  link: ClaimLink,
  userId: string,
  form: Record<string, string>,
): { redirectUrl: string | null; requestId: string; authCode: string; infos: string } {
  const app = findApp(rt, link.appId)
  if (app === undefined) {
    throw new ClaimError('INVALID_LINK', '领卡链接无效或已失效')
  }
  if (findUser(rt, userId) === undefined) {
    throw new ClaimError('USER_NOT_FOUND', `用户不存在:${userId}`)
  }
  if (link.callback !== null && !callbackAllowed(rt, app, link.callback)) {
    throw new ClaimError('ERR010', err010)
  }
  const values: Record<string, string> = {}
  for (const [key, value] of Object.entries(form)) {
    values[friendlyNames[key] ?? key] = String(value)
  }
  const fields = claimForm(rt, link, userId)
  const infos: Record<string, string>[] = []
  for (const f of fields) {
    const value = (values[f.field] ?? f.value).trim()
    if (value === '') {
      if (f.required) {
        throw new ClaimError('FORM_REQUIRED', `请填写${f.label}`)
      }
      continue
    }
    infos.push({ [f.field]: value })
  }
  const requestId = `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}${digits(21)}`
  const authCode = hexToken(16)
  rt.db.transaction(() => {
    rt.db
      .prepare(
        'insert into submissions (request_id, apply_id, app_id, template_id, user_id, infos, created_at) values (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        requestId,
        link.applyId,
        link.appId,
        link.templateId,
        userId,
        JSON.stringify(infos),
        new Date().toISOString(),
      )
    rt.db
      .prepare('insert into auth_codes (code, app_id, user_id, expires_at) values (?, ?, ?, ?)')
      .run(authCode, link.appId, userId, Date.now() + rt.behaviour.authCodeTtlSeconds * 1000)
  })()
  if (link.callback === null || isSpiTemplate(rt, link.templateId)) {
    return { redirectUrl: null, requestId, authCode, infos: JSON.stringify(infos) }
  }
  const query: Record<string, string> = {
    app_id: link.appId,
    auth_code: authCode,
    state: Buffer.from('mcard').toString('base64'),
    scope: 'auth_base,auth_user,auth_ecard',
    template_id: link.templateId,
    request_id: requestId,
    ...(link.outString !== null ? { out_string: link.outString } : {}),
  }
  if (rt.behaviour.signCallback) {
    query.sign_type = 'RSA2'
    query.sign = signText(notifySignContent(query), rt.alipayKey)
  }
  const url = new URL(link.callback)
  for (const [k, v] of Object.entries(query)) {
    url.searchParams.set(k, v)
  }
  return { redirectUrl: url.toString(), requestId, authCode, infos: JSON.stringify(infos) }
}

/** Whether a template opens cards 3.1 (极速版): it names the app implementing the open-card SPI. */
export function isSpiTemplate(rt: Runtime, templateId: string): boolean {
  const spi = findTemplate(rt, templateId)?.data.spi_app_id
  return typeof spi === 'string' && spi !== ''
}
