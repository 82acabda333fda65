import type { KeyObject } from 'node:crypto'
import { signText } from '../crypto.js'
import type { SignType } from '../crypto.js'

/** `alipay.marketing.card.open` → `alipay_marketing_card_open_response` (§1.5). */
export function responseKey(method: string): string {
  return `${method.replaceAll('.', '_')}_response`
}

/** What was signed and sent, kept for the calls log and the golden test. */
export interface SignedResponse {
  body: string
  node: string
  sign: string
}

/**
 * Serialises `{"<key>":<node>,"sign":"…"}` where the signature covers exactly the `<node>` text
 * emitted (§1.5). `corrupt` flips one base64 character (the bad-signature fault): the signature
 * keeps its full length, so the SDK's `getSignStr` still finds the node and then rejects it.
 */
export function signResponse(
  key: string,
  payload: Record<string, unknown>,
  alipayKey: KeyObject,
  options: {
    escapeSlashes: boolean
    signType?: SignType
    corrupt?: boolean
    /** Cert mode: the SN of the Alipay certificate whose key signs, sent as `alipay_cert_sn`. */
    alipayCertSn?: string
    /** The request's charset: the signature covers the node's bytes in it. */
    charset?: string
  },
): SignedResponse {
  let node = JSON.stringify(payload)
  if (options.escapeSlashes) {
    node = node.replaceAll('/', '\\/')
  }
  let sign = signText(node, alipayKey, options.signType ?? 'RSA2', options.charset)
  if (options.corrupt === true) {
    sign = corruptSignature(sign)
  }
  const certSn =
    options.alipayCertSn === undefined ? '' : `"alipay_cert_sn":"${options.alipayCertSn}",`
  return { body: `{"${key}":${node},${certSn}"sign":"${sign}"}`, node, sign }
}

/** Changes one character in the middle of a base64 signature. */
export function corruptSignature(sign: string): string {
  const at = Math.floor(sign.length / 2)
  const replacement = sign[at] === 'A' ? 'B' : 'A'
  return sign.slice(0, at) + replacement + sign.slice(at + 1)
}
