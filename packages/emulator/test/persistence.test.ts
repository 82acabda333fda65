import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { drive, registerApp, startTestEmulator } from './helpers.js'

describe('dbFile persistence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaguan-emu-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps the Alipay key, apps and templates across a restart', async () => {
    const dbFile = join(dir, 'emulator.db')
    const first = await startTestEmulator({ dbFile })
    const { appId, alipayPublicKey, keys } = await registerApp(first)
    const created = (await (
      await registerApp(first, { appId })
    ).sdk.exec('alipay.marketing.card.template.create', {
      bizContent: { request_id: 'p1', card_type: 'OUT_MEMBER_CARD', biz_no_suffix_len: '10' },
    })) as Record<string, unknown>
    await first.close()

    const second = await startTestEmulator({ dbFile })
    try {
      const again = await drive<{ alipayPublicKey: string }>(second, '/__emulator/apps', {
        appId,
        appPublicKey: keys.publicKey,
      })
      expect(again.body.alipayPublicKey).toBe(alipayPublicKey)
      const calls = await drive<unknown[]>(
        second,
        '/__emulator/calls?method=alipay.marketing.card.template.create',
        undefined,
        'GET',
      )
      expect(calls.body).toHaveLength(1)
      expect(created.template_id).toMatch(/^\d{32}$/)
    } finally {
      await second.close()
    }
  })
})
