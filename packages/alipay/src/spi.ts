import { signContent, verifyContent, type SignType } from './keys.js'
import { checkSignature, type NotifyInput, type NotifyVerification } from './notify.js'

/**
 * 3.1 极速版 open-card SPI (`spi.alipay.user.opencard.get`, docs/alipay-3.1-opencard.md): Alipay
 * calls the merchant app named in the template's `spi_app_id` after the user agrees to the form.
 * The request fields are public (apifox mirror of opendocs); the answer's fields and signing are
 * not: they are assumed here, in this one place, as the OpenAPI response convention (a `response`
 * node, signed as its exact JSON text with the app's private key, `sign` beside it).
 */
export const OPENCARD_SPI_METHOD = 'spi.alipay.user.opencard.get'

/** The SPI request's business fields (biz_content). */
export interface OpenCardSpiRequest {
  user_id?: string
  open_id?: string
  union_id?: string
  /** Alipay's template id. */
  template_id: string
  /** Alipay's serial of this open-card action, unique in the card bag (the idempotency key). */
  out_serial_no: string
  /** Alipay's card number for the card to be opened (card.update's target_card_no later). */
  biz_card_no: string
  /** The submitted form: a JSON array of `{ OPEN_FORM_FIELD_…: value }`. */
  user_info?: string
}

/** A verified SPI request: its business fields and every public parameter. */
export interface OpenCardSpiCall {
  method: string
  /** The app the SPI is called for (`biz_app_id`), or the caller's (`invoke_app_id`). */
  appId?: string
  biz: OpenCardSpiRequest
  params: Readonly<Record<string, string>>
}

/** The merchant card the SPI answers (assumed: card.open's MerchantCard fields). */
export interface OpenCardSpiCard {
  external_card_no: string
  open_date: string
  valid_date: string
  point?: string
  level?: string
  balance?: string
}

export type OpenCardSpiAnswer =
  | ({ code: '10000'; msg: 'Success' } & OpenCardSpiCard)
  | { code: '40004'; msg: 'Business Failed'; sub_code: string; sub_msg: string }

/**
 * Verifies an SPI request signed by Alipay (the notify rules: every parameter but `sign`, with or
 * without `sign_type`) and reads its business fields.
 */
export function verifyOpenCardSpi(
  input: NotifyInput,
  alipayPublicKey: string,
): NotifyVerification<OpenCardSpiCall> {
  const checked = checkSignature(input, alipayPublicKey, 'utf-8')
  if (!checked.ok) {
    return checked
  }
  const params = checked.message
  let biz: unknown
  try {
    biz = JSON.parse(params.biz_content ?? '')
  } catch {
    return { ok: false, reason: 'bad-message', detail: 'biz_content is not JSON' }
  }
  const record = (typeof biz === 'object' && biz !== null ? biz : {}) as Record<string, unknown>
  for (const field of ['template_id', 'out_serial_no', 'biz_card_no']) {
    if (typeof record[field] !== 'string' || record[field] === '') {
      return { ok: false, reason: 'bad-message', detail: `biz_content.${field} is missing` }
    }
  }
  const appId = params.biz_app_id ?? params.app_id ?? params.invoke_app_id
  return {
    ok: true,
    message: {
      method: params.method ?? '',
      ...(appId ? { appId } : {}),
      biz: record as unknown as OpenCardSpiRequest,
      params,
    },
  }
}

/** The signed answer body: `{"response":{…},"sign":"…","sign_type":"RSA2"}`, the sign over the response text. */
export function signOpenCardSpiAnswer(
  answer: OpenCardSpiAnswer,
  appPrivateKey: string,
  signType: SignType = 'RSA2',
): string {
  const response = JSON.stringify(answer)
  const sign = signContent(response, appPrivateKey, signType)
  return `{"response":${response},"sign":${JSON.stringify(sign)},"sign_type":"${signType}"}`
}

/** Checks an SPI answer against the app's public key (what Alipay, or the emulator, does). */
export function verifyOpenCardSpiAnswer(
  body: string,
  appPublicKey: string,
): OpenCardSpiAnswer | undefined {
  const match = /^\{"response":(.*),"sign":("(?:[^"\\]|\\.)*"),"sign_type":"(RSA2?)"\}$/s.exec(
    body.trim(),
  )
  if (!match) {
    return undefined
  }
  const [, response, sign, signType] = match
  if (!verifyContent(response!, JSON.parse(sign!) as string, appPublicKey, signType as SignType)) {
    return undefined
  }
  return JSON.parse(response!) as OpenCardSpiAnswer
}
