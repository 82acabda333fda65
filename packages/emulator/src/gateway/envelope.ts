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
  options: { escapeSlashes: boolean; signType?: SignType; corrupt?: boolean },
): SignedResponse {
  let node = JSON.stringify(payload)
  if (options.escapeSlashes) {
    node = node.replaceAll('/', '\\/')
  }
  let sign = signText(node, alipayKey, options.signType ?? 'RSA2')
  if (options.corrupt === true) {
    sign = corruptSignature(sign)
  }
  return { body: `{"${key}":${node},"sign":"${sign}"}`, node, sign }
}

/** Changes one character in the middle of a base64 signature. */
export function corruptSignature(sign: string): string {
  const at = Math.floor(sign.length / 2)
  const replacement = sign[at] === 'A' ? 'B' : 'A'
  return sign.slice(0, at) + replacement + sign.slice(at + 1)
}
