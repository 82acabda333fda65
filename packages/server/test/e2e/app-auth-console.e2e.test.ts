import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminUser } from '../../src/modules/admin/index.js'
import { startIsvStack } from '../helpers/isv.js'
import { emulatorJson, type Stack } from '../helpers/kaguan.js'

const root = new URL('../../../../', import.meta.url).pathname
const consoleDist = join(root, 'packages/console/dist/index.html')
const shots = join(root, 'test-output/console/onboarding')
const executablePath = '/usr/bin/chromium'
const haveBrowser = existsSync(executablePath)
const requireBrowser = process.env.KAGUAN_TEST_REQUIRE_BROWSER === '1'

const USER = 'isv-admin'
const PASSWORD = 'isv-admin-password-123'

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(shots, { recursive: true })
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
}

/** The console's onboarding page (商户接入): create → link/QR → the owner authorises → status. */
describe.skipIf(!haveBrowser && !requireBrowser)('the onboarding page in a real browser', () => {
  let stack: Stack
  let browser: Browser
  let page: Page
  let link = ''
  const browserErrors: string[] = []

  beforeAll(async () => {
    const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], { cwd: root })
    expect(built.status, built.stderr?.toString()).toBe(0)
    expect(existsSync(consoleDist)).toBe(true)
    stack = await startIsvStack()
    await createAdminUser(
      stack.kaguan.deps,
      { username: USER, password: PASSWORD, role: 'admin' },
      'test',
    )
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
    const staff = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      locale: 'zh-CN',
    })
    page = await staff.newPage()
    page.setDefaultTimeout(10_000)
    page.on('pageerror', (e) => browserErrors.push(e.message))
  }, 120_000)

  afterAll(async () => {
    if (browserErrors.length) {
      console.warn(`[console] browser errors:\n${browserErrors.join('\n')}`)
    }
    await browser?.close()
    await stack?.close()
  })

  it('creates a merchant and shows its authorisation link and QR code', async () => {
    await page.goto(stack.kaguan.urls.management!)
    await page.fill('#username', USER)
    await page.fill('#password', PASSWORD)
    await page.click('button[type="submit"]')
    await page.waitForSelector('.ant-layout-content h3')
    await page.click('text=商户接入')
    await page.waitForSelector('[data-testid="onboard-name"]')
    await page.fill('[data-testid="onboard-name"]', '甲咖啡')
    await page.click('[data-testid="onboard-create"]')
    await page.waitForSelector('[data-testid="onboard-created"]')
    await page.waitForSelector('[data-testid="onboard-qr"] img, img[data-testid="onboard-qr"]')
    await page.waitForLoadState('networkidle')
    link = (await page.locator('[data-testid="onboard-link"]').first().textContent()) ?? ''
    expect(link).toContain('/oauth2/appToAppAuth.htm?app_id=')
    expect(await page.locator('.ant-tag', { hasText: '待授权' }).count()).toBeGreaterThan(0)
    // The QR code is a real PNG from the server.
    const qrOk = await page
      .locator('[data-testid="onboard-created"] img')
      .first()
      .evaluate((img) => {
        const i = img as unknown as { complete: boolean; naturalWidth: number }
        return i.complete && i.naturalWidth > 100
      })
    expect(qrOk).toBe(true)
    await shot(page, '01-created-link-qr')
  })

  it("the owner authorises on Alipay's page; the console shows the merchant authorised", async () => {
    const owner = await browser.newPage({ viewport: { width: 420, height: 800 } })
    await owner.goto(link)
    await owner.waitForSelector('button[type="submit"]')
    await owner.screenshot({ path: join(shots, '02-alipay-authorise-page.png'), fullPage: true })
    await owner.click('button[type="submit"]')
    await owner.waitForSelector('#app-auth-result')
    expect(await owner.locator('#app-auth-result').getAttribute('data-status')).toBe('authorised')
    await owner.screenshot({ path: join(shots, '03-callback-result.png'), fullPage: true })
    await owner.close()
    // The page polls while a merchant is pending.
    await page.waitForSelector('.ant-tag:has-text("已授权")', { timeout: 15_000 })
    await page.waitForLoadState('networkidle')
    await shot(page, '04-authorised')
  })

  it('shows a withdrawn authorisation and offers re-authorisation', async () => {
    const list = await emulatorJson<{ grants: { merchantAppId: string }[] }>(
      stack.emulator,
      'GET',
      '/__emulator/app-auths',
    )
    await emulatorJson(stack.emulator, 'POST', '/__emulator/app-auths/cancel', {
      merchantAppId: list.grants[0]!.merchantAppId,
    })
    await page.waitForTimeout(500)
    await page.reload()
    await page.waitForSelector('.ant-tag:has-text("已取消授权")', { timeout: 15_000 })
    expect(await page.locator('.ant-alert-error').count()).toBe(1)
    expect(await page.locator('button:has-text("重新授权")').count()).toBe(1)
    await shot(page, '05-revoked')
    await page.click('button:has-text("重新授权")')
    await page.waitForSelector('[data-testid="onboard-row-qr"]')
    await page.waitForLoadState('networkidle')
    await shot(page, '06-reauthorise-link')
    expect(browserErrors).toEqual([])
  })
})
