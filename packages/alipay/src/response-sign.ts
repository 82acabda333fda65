/**
 * The exact text Alipay signed in a v2 gateway answer: the raw JSON value of the `<key>` node,
 * from its `{` to the matching `}`, byte for byte (reference §1.5). Brace matching (as the newer
 * Java `AlipaySignature.extractSignContent` does) instead of the Node SDK's `lastIndexOf('"sign"')`
 * arithmetic, which includes the signature itself when it is short.
 *
 * Returns undefined when the node is absent or not an object.
 */
export function extractSignedNode(body: string, key: string): string | undefined {
  const needle = `"${key}"`
  let at = body.indexOf(needle)
  while (at !== -1) {
    let i = at + needle.length
    while (i < body.length && /\s/.test(body[i] ?? '')) {
      i++
    }
    if (body[i] === ':') {
      i++
      while (i < body.length && /\s/.test(body[i] ?? '')) {
        i++
      }
      if (body[i] !== '{') {
        return undefined
      }
      const end = matchingBrace(body, i)
      return end === -1 ? undefined : body.slice(i, end + 1)
    }
    at = body.indexOf(needle, at + 1)
  }
  return undefined
}

function matchingBrace(text: string, start: number): number {
  let depth = 0
  let inString = false
  for (let i = start; i < text.length; i++) {
    const ch = text[i]
    if (inString) {
      if (ch === '\\') {
        i++
      } else if (ch === '"') {
        inString = false
      }
    } else if (ch === '"') {
      inString = true
    } else if (ch === '{') {
      depth++
    } else if (ch === '}') {
      depth--
      if (depth === 0) {
        return i
      }
    }
  }
  return -1
}

/** The response node key of a method: `alipay.marketing.card.open` → `alipay_marketing_card_open_response`. */
export function responseKeyOf(method: string): string {
  return `${method.replaceAll('.', '_')}_response`
}
