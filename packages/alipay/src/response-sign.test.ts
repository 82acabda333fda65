import { describe, expect, it } from 'vitest'
import { extractSignedNode, responseKeyOf } from './response-sign.js'

describe('extractSignedNode', () => {
  it('returns the node text byte for byte, braces and quotes inside strings included', () => {
    const node = '{"code":"10000","msg":"Success","x":"a}\\"{b","n":{"y":[1,{"z":"}"}]}}'
    const body = `{"alipay_a_b_response":${node},"alipay_cert_sn":"sn","sign":"AAAA"}`
    expect(extractSignedNode(body, 'alipay_a_b_response')).toBe(node)
  })

  it('tolerates whitespace after the key and reports a missing node', () => {
    expect(extractSignedNode('{"error_response" : {"code":"40002"}}', 'error_response')).toBe(
      '{"code":"40002"}',
    )
    expect(extractSignedNode('{"other":{}}', 'error_response')).toBeUndefined()
  })

  it('responseKeyOf replaces every dot', () => {
    expect(responseKeyOf('alipay.marketing.card.open')).toBe('alipay_marketing_card_open_response')
  })
})
