import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { generateRsaKeyPair, parsePrivateKey, requestSignContent, signText } from '../src/crypto.js'
import { signResponse } from '../src/gateway/envelope.js'

const dir = mkdtempSync(join(tmpdir(), 'kaguan-golden-'))
const key = generateRsaKeyPair()
const keyFile = join(dir, 'key.pem')
writeFileSync(keyFile, key.privateKey)

/** `openssl dgst -sha256 -sign key.pem | base64` over exactly these bytes. */
function opensslSign(text: string): string {
  const file = join(dir, `msg-${Math.random()}`)
  writeFileSync(file, text, 'utf8')
  const signature = execFileSync('openssl', ['dgst', '-sha256', '-sign', keyFile, file])
  return signature.toString('base64')
}

describe('golden vectors against the openssl command line', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('signs the request sign string byte for byte like openssl', () => {
    const params = {
      app_id: '2021000000000001',
      method: 'alipay.marketing.card.template.create',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: '2026-11-21 22:46:54',
      version: '1.0',
      notify_url: 'https://m.example/notify',
      empty: '',
      biz_content:
        '{"request_id":"r1","card_type":"OUT_MEMBER_CARD","template_style_info":{"card_show_name":"测试卡"}}',
    }
    const content = requestSignContent(params)
    expect(content).toBe(
      'app_id=2021000000000001&biz_content={"request_id":"r1","card_type":"OUT_MEMBER_CARD","template_style_info":{"card_show_name":"测试卡"}}&charset=utf-8&method=alipay.marketing.card.template.create&notify_url=https://m.example/notify&sign_type=RSA2&timestamp=2026-11-21 22:46:54&version=1.0',
    )
    expect(signText(content, parsePrivateKey(key.privateKey))).toBe(opensslSign(content))
  })

  it('signs the exact <method>_response node text like openssl', () => {
    const signed = signResponse(
      'alipay_offline_material_image_upload_response',
      { code: '10000', msg: 'Success', image_id: 'abc', image_url: 'http://127.0.0.1/images/abc' },
      parsePrivateKey(key.privateKey),
      { escapeSlashes: true },
    )
    expect(signed.node).toBe(
      '{"code":"10000","msg":"Success","image_id":"abc","image_url":"http:\\/\\/127.0.0.1\\/images\\/abc"}',
    )
    expect(signed.body).toBe(
      `{"alipay_offline_material_image_upload_response":${signed.node},"sign":"${signed.sign}"}`,
    )
    expect(signed.sign).toBe(opensslSign(signed.node))
    expect(signed.sign).toHaveLength(344)
  })
})
