import { findTemplate, findUser } from '../cards.js'
import { pki } from '../certs.js'
import { optString, reqString, requireUserToken } from '../gateway/context.js'
import type { MethodDef } from '../gateway/context.js'
import { businessError } from '../gateway/errors.js'

/**
 * `alipay.open.app.alipaycert.download` (应用支付宝公钥证书下载): the Alipay public certificate with
 * this SN, as base64 of its PEM text (`alipay_cert_content`). What a cert-mode client calls when an
 * answer names an `alipay_cert_sn` it does not know. Found: the method and the two field names;
 * assumed: the error for an unknown SN.
 */
const alipayCertDownload: MethodDef = {
  product: null,
  run(ctx) {
    const sn = reqString(ctx.biz, 'alipay_cert_sn')
    const cert = pki(ctx.rt).bySn.get(sn)
    if (cert === undefined) {
      throw businessError('CERT_NOT_EXIST', `支付宝公钥证书不存在:${sn}`)
    }
    return { alipay_cert_content: Buffer.from(cert.pem, 'utf8').toString('base64') }
  },
}

/**
 * `alipay.marketing.card.authinfo.query` (2024; the reference calls its flow unconfirmed): what the
 * user behind `auth_token` shares for the open-card form. Assumed: the answer holds the fields the
 * template's form asks for (all the profile when no template is named), under snake_case names.
 */
const authInfoQuery: MethodDef = {
  product: 'member_card',
  run(ctx) {
    const userId = requireUserToken(ctx)
    const user = findUser(ctx.rt, userId)
    if (user === undefined) {
      throw businessError('USER_NOT_EXIST', '用户不存在')
    }
    const templateId = optString(ctx.biz, 'template_id')
    const template = templateId === undefined ? undefined : findTemplate(ctx.rt, templateId)
    if (templateId !== undefined && (template === undefined || template.appId !== ctx.app.appId)) {
      throw businessError('TEMPLATE_NOT_EXIST', `模板不存在:${templateId}`)
    }
    const asked = template?.form
      ? new Set([...template.form.required, ...template.form.optional])
      : undefined
    const wants = (field: string) => asked === undefined || asked.has(field)
    return {
      user_id: user.userId,
      ...(wants('OPEN_FORM_FIELD_NAME') ? { name: user.name } : {}),
      ...(wants('OPEN_FORM_FIELD_MOBILE') ? { mobile: user.mobile } : {}),
      ...(wants('OPEN_FORM_FIELD_GENDER') ? { gender: user.gender } : {}),
      ...(wants('OPEN_FORM_FIELD_CERT_NO') || wants('OPEN_FORM_FIELD_IDCARD')
        ? { cert_type: '0', cert_no: user.certNo }
        : {}),
    }
  },
}

export const certMethods: Record<string, MethodDef> = {
  'alipay.open.app.alipaycert.download': alipayCertDownload,
  'alipay.marketing.card.authinfo.query': authInfoQuery,
}
