import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair } from '@kaguan/crm-sdk'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, configureMerchant, startStack, type Stack } from '../helpers/kaguan.js'

const root = new URL('../../../../', import.meta.url).pathname
const shots = join(root, 'test-output/console')
const executablePath = '/usr/bin/chromium'
const haveBrowser = existsSync(executablePath)

describe.skipIf(!haveBrowser && process.env.KAGUAN_TEST_REQUIRE_BROWSER !== '1')(
  'the key rotation card in a real browser',
  () => {
    let stack: Stack
    let browser: Browser
    beforeAll(async () => {
      const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], { cwd: root })
      expect(built.status, built.stderr?.toString()).toBe(0)
      stack = await startStack()
      browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
    }, 180_000)
    afterAll(async () => {
      await browser?.close()
      await stack?.close()
    })

    it('shows the staged app key to upload, the CRM key window and the new token, and activates', async () => {
      const admin = await adminClient(stack, 'admin', 'keys-admin')
      await configureMerchant(stack, admin, {
        baseUrl: 'http://127.0.0.1:9',
        token: 'old-token-0123456789',
        publicKey: generateKeyPair().publicKey,
      })
      const page = await (
        await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
      ).newPage()
      page.setDefaultTimeout(15_000)
      await page.goto(stack.kaguan.urls.management!)
      await page.fill('#username', 'keys-admin')
      await page.fill('#password', 'admin-password-123')
      await page.click('button[type="submit"]')
      await page.waitForSelector('.ant-layout-sider')
      await page.goto(`${page.url().split('#')[0]}#/merchant`)
      await page.waitForSelector('[data-testid="keys-card"]')

      // Stage a new app key (made by kaguan), add a CRM key, issue a token: all from the console.
      await page.click('[data-testid="keys-card"] button:has-text("生成 / 保存新私钥")')
      await page.waitForSelector('[data-testid="staged-public-key"]')
      await page.fill('#keysCrm_publicKey', generateKeyPair().publicKey)
      await page.click('[data-testid="keys-card"] button:has-text("添加新公钥")')
      await page.waitForSelector('[data-testid="keys-card"] :text("前仍接受")')
      await page.click('[data-testid="keys-card"] button:has-text("签发新令牌")')
      await page.waitForSelector('[data-testid="issued-token"]')
      const token = (await page.locator('[data-testid="issued-token"]').textContent())!.trim()
      expect(token).toMatch(/^[\w-]{40,}$/)
      mkdirSync(join(shots, 'zh-CN'), { recursive: true })
      const card = page.locator('[data-testid="keys-card"]')
      await card.screenshot({ path: join(shots, 'zh-CN', '40-key-rotation.png') })

      const staged = (await page.locator('[data-testid="staged-public-key"]').textContent())!.trim()
      await page.click('[data-testid="keys-card"] button:has-text("启用新私钥")')
      await page.click('.ant-popconfirm .ant-btn-primary')
      await page.waitForSelector('[data-testid="staged-public-key"]', { state: 'detached' })
      const view = (await admin.request('GET', '/api/merchants/mch_default/keys')).body
      expect(view.appKey.next).toBeNull()
      expect(view.crmKey.old.accepted).toBe(true)
      expect(view.crmToken.next.seenAt).toBeNull()
      expect(staged.length).toBeGreaterThan(300)
      await card.screenshot({ path: join(shots, 'zh-CN', '41-key-rotation-activated.png') })
    }, 120_000)
  },
)
