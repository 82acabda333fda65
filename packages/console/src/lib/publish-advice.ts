/** What publish failed with, as the API answers it: an errcode and its message. */
export interface PublishFailure {
  errcode: string
  message: string
}

/**
 * The i18n keys of what to do about a failed publish (the FAQ of the seed): ERR010 and callback
 * mismatches, a localhost public URL Alipay cannot reach, the missing card-bag permission, an
 * image upload refused because the app's keys or id are wrong. The API's message says what
 * happened; these say what to change.
 */
export function publishAdvice(failure: PublishFailure): string[] {
  const text = `${failure.errcode} ${failure.message}`
  const keys: string[] = []
  if (/ERR010|CALLBACK/i.test(text)) {
    keys.push('advice.callback')
  }
  if (/localhost|127\.0\.0\.1|PUBLIC_URL/i.test(text)) {
    keys.push('advice.publicUrl')
  }
  if (/PERMISSION|ISV\.|insufficient|权限/i.test(text)) {
    keys.push('advice.permission')
  }
  if (/IMAGE|upload/i.test(text)) {
    keys.push('advice.imageUpload')
  }
  if (/PUBLIC_KEY|SIGN|TOKEN_INVALID|NOT_CONFIGURED|appId/i.test(text)) {
    keys.push('advice.appConfig')
  }
  if (/UNAVAILABLE/i.test(text)) {
    keys.push('advice.unavailable')
  }
  return keys
}
