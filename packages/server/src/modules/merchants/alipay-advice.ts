import { AlipayError, AlipayErrorCode } from '@kaguan/alipay'
import { AppError, ErrorKind } from '../../shared/errors.js'

/** The step an Alipay call belonged to, so the advice can name what to fix. */
export type AlipayOperation =
  | 'image.upload'
  | 'template.publish'
  | 'form.set'
  | 'claim.link'
  | 'card.open'
  | 'card.update'
  | 'card.delete'
  | 'oauth'
  | 'koubei.publish'
  | 'koubei.exchange'

const LABEL: Record<AlipayOperation, string> = {
  'image.upload': '图片上传 (image upload)',
  'template.publish': '发布会员卡模板 (template publish)',
  'form.set': '开卡表单设置 (open-card form)',
  'claim.link': '获取领卡链接 (claim link)',
  'card.open': '开卡 (card open)',
  'card.update': '更新会员卡 (card update)',
  'card.delete': '删卡 (card delete)',
  oauth: '用户授权 (oauth token)',
  'koubei.publish': '口碑活动创建 (Koubei activity create)',
  'koubei.exchange': '集点兑换发券授权 (Koubei prize-send auth)',
}

/**
 * Turns an Alipay failure into what the operator should do about it (the seed's FAQ). The result is
 * an AppError with code `ALIPAY_<WHAT>`, the fix in its message, and Alipay's own codes in details.
 */
export function explainAlipayError(
  error: unknown,
  operation: AlipayOperation,
  context: { callbackUrl?: string } = {},
): AppError {
  if (!(error instanceof AlipayError)) {
    return error instanceof AppError
      ? error
      : new AppError(ErrorKind.Internal, 'INTERNAL', 'internal error', {}, { cause: error })
  }
  const details = {
    alipayCode: error.code,
    subCode: error.subCode ?? null,
    subMsg: error.subMsg ?? null,
    traceId: error.traceId ?? null,
    retryable: error.retryable,
  }
  const step = LABEL[operation]
  const sub = `${error.subCode ?? ''} ${error.subMsg ?? ''} ${error.msg ?? ''}`
  const make = (kind: (typeof ErrorKind)[keyof typeof ErrorKind], code: string, advice: string) =>
    new AppError(kind, code, `${step} 失败：${advice}`, details, { cause: error })

  if (error.code === AlipayErrorCode.ResponseSignatureInvalid) {
    return make(
      ErrorKind.Invalid,
      'ALIPAY_PUBLIC_KEY_WRONG',
      '支付宝应答验签失败。商户配置的"支付宝公钥"不对（常见原因：填成了应用公钥）。请从开放平台复制"支付宝公钥"重新保存。The Alipay public key is wrong (often the app public key was pasted instead).',
    )
  }
  if (/ERR010|callback|回调/i.test(sub)) {
    return make(
      ErrorKind.Invalid,
      'ALIPAY_CALLBACK_MISMATCH',
      `领卡回调地址与开放平台上应用的"授权回调地址"不一致，用户会看到"系统异常，请联系商家(ERR010)"。请在开放平台把授权回调地址设为 ${context.callbackUrl ?? '<公网地址>/aliCallback'}（不带参数）。The callback must equal the app's registered authorization callback URL.`,
    )
  }
  if (error.code === '40006' || /insufficient-isv-permissions|permission|权限/i.test(sub)) {
    return make(
      ErrorKind.Forbidden,
      'ALIPAY_PERMISSION_MISSING',
      '应用没有会员卡（卡包）相关权限。请在开放平台为该应用添加并签约"会员卡"功能（或第三方应用获得商户授权）后重试。The app lacks the member-card permission.',
    )
  }
  if (
    /invalid-signature|sign/i.test(error.subCode ?? '') ||
    (error.code === '40002' && /sign/i.test(sub))
  ) {
    return make(
      ErrorKind.Invalid,
      'ALIPAY_APP_KEY_MISMATCH',
      '支付宝验签失败：应用私钥与开放平台上登记的应用公钥不匹配，或 APPID 填错。请核对 APPID 并重新上传与应用公钥配对的私钥。',
    )
  }
  if (error.code === '20001' || /app-auth-token|auth-token/i.test(error.subCode ?? '')) {
    return make(
      ErrorKind.Invalid,
      'ALIPAY_TOKEN_INVALID',
      '授权令牌无效或已过期（第三方应用 app_auth_token 或用户 auth_token）。ISV 请让商户重新授权后更新 app_auth_token。',
    )
  }
  if (operation === 'image.upload') {
    return make(
      ErrorKind.Invalid,
      'ALIPAY_IMAGE_UPLOAD_FAILED',
      `图片上传失败，这通常说明支付宝应用配置有误（APPID、密钥、网关或应用未上线）。请检查商户的支付宝应用配置。(${error.code} ${error.subCode ?? ''} ${error.subMsg ?? ''})`,
    )
  }
  if (error.retryable) {
    return make(
      ErrorKind.Unavailable,
      'ALIPAY_UNAVAILABLE',
      `支付宝暂时不可用（${error.code}${error.subCode ? ` ${error.subCode}` : ''}），请稍后重试。Alipay is unavailable; try again later.`,
    )
  }
  return make(
    ErrorKind.Invalid,
    'ALIPAY_REJECTED',
    `支付宝拒绝了请求：${error.subMsg ?? error.msg ?? error.code}（${error.code}${error.subCode ? ` / ${error.subCode}` : ''}）。`,
  )
}
