import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminUser } from '../../src/modules/admin/index.js'
import { startStack, type Stack } from '../helpers/kaguan.js'

const root = new URL('../../../../', import.meta.url).pathname
const shots = join(root, 'test-output/console')
const executablePath = '/usr/bin/chromium'
const haveBrowser = existsSync(executablePath)

const USER = 'channel-admin'
const PASSWORD = 'channel-password-123'

// The merchant settings page's message-channel select (HTTP gateway or long connection), in a real browser.
describe.skipIf(!haveBrowser)('console: the message channel select', () => {
  let stack: Stack
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], { cwd: root })
    expect(built.status, built.stderr?.toString()).toBe(0)
    stack = await startStack({ roles: ['management'] })
    await createAdminUser(
      stack.kaguan.deps,
      { username: USER, password: PASSWORD, role: 'admin' },
      'test',
    )
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      locale: 'zh-CN',
    })
    page = await context.newPage()
    page.setDefaultTimeout(10_000)
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await stack?.close()
  })

  it('switches the merchant to the long connection, audited', async () => {
    await page.goto(stack.kaguan.urls.management!)
    await page.waitForSelector('#username')
    await page.fill('#username', USER)
    await page.fill('#password', PASSWORD)
    await page.click('button[type="submit"]')
    await page.waitForSelector('.ant-layout-sider')
    await page.goto(`${page.url().split('#')[0]}#/merchant`)
    await page.waitForSelector('[data-testid="save-message-channel"]')
    expect(await page.locator('.ant-card', { hasText: '消息接收方式' }).textContent()).toContain(
      'HTTP 应用网关',
    )
    await page.locator('[data-testid="message-channel"]').click()
    await page.locator('.ant-select-item-option', { hasText: '长连接' }).click()
    await page.click('[data-testid="save-message-channel"]')
    await page.waitForSelector('.ant-message-success')
    const row = await stack.kaguan.deps.db
      .selectFrom('merchants')
      .select('message_channel')
      .where('id', '=', 'mch_default')
      .executeTakeFirstOrThrow()
    expect(row.message_channel).toBe('websocket')
    const audit = await stack.kaguan.deps.db
      .selectFrom('audit_log')
      .select(['actor', 'after_json'])
      .where('action', '=', 'merchant.message_channel.update')
      .execute()
    expect(audit).toHaveLength(1)
    mkdirSync(join(shots, 'zh-CN'), { recursive: true })
    await page
      .locator('.ant-card', { hasText: '消息接收方式' })
      .screenshot({ path: join(shots, 'zh-CN', 'merchant-message-channel.png') })
    await page.screenshot({
      path: join(shots, 'zh-CN', 'merchant-message-channel-page.png'),
      fullPage: true,
    })
  }, 60_000)
})
