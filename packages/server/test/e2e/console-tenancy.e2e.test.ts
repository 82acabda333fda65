import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/deps.js'
import { buildRoleApp, type RoleApp } from '../../src/http/app.js'
import { registerManagement } from '../../src/http/management/index.js'
import { createAdminUser } from '../../src/modules/admin/index.js'
import {
  createMerchant,
  DEFAULT_MERCHANT_ID,
  ensureDefaultMerchant,
} from '../../src/modules/merchants/index.js'
import { createShop } from '../../src/modules/shops/index.js'
import { createTestDb, type TestDb } from '../helpers/db.js'
import { testDeps } from '../helpers/deps.js'

const root = new URL('../../../../', import.meta.url).pathname
const consoleDir = join(root, 'packages/console/dist')
const shots = join(root, 'test-output/console/tenancy')
const executablePath = '/usr/bin/chromium'
const haveBrowser = existsSync(executablePath)
const PASSWORD = 'tenancy password 123'

/** Issue 14 in the browser: the merchant switcher of a platform admin, none for a merchant's operator. */
describe.skipIf(!haveBrowser)('the console, per merchant', () => {
  let db: TestDb
  let deps: AppDeps
  let app: RoleApp
  let browser: Browser
  let base = ''
  let other = ''

  async function signIn(username: string): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: 'zh-CN',
    })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    await page.goto(base)
    await page.waitForSelector('#username')
    await page.fill('#username', username)
    await page.fill('#password', PASSWORD)
    await page.click('button[type="submit"]')
    await page.waitForSelector('.ant-layout-sider')
    return page
  }

  async function open(page: Page, route: string): Promise<void> {
    await page.goto(`${page.url().split('#')[0]}#${route}`)
    await page.waitForSelector('.ant-layout-content h3')
    await page.waitForLoadState('networkidle')
  }

  async function shot(page: Page, name: string): Promise<void> {
    mkdirSync(shots, { recursive: true })
    // Let the menu's and the select's transitions end.
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  }

  beforeAll(async () => {
    const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], { cwd: root })
    expect(built.status, built.stderr?.toString()).toBe(0)
    db = await createTestDb('sqlite')
    deps = testDeps(db)
    await ensureDefaultMerchant(deps)
    other = (await createMerchant(deps, { name: '乙商户 分店' }, { actor: 'cli' })).id
    await createShop(
      deps,
      DEFAULT_MERCHANT_ID,
      { name: '甲 一号店', address: '杭州西湖区', latitude: 30.27, longitude: 120.15 },
      { actor: 'cli' },
    )
    await createShop(
      deps,
      other,
      { name: '乙 旗舰店', address: '上海浦东', latitude: 31.23, longitude: 121.5 },
      { actor: 'cli' },
    )
    await createAdminUser(deps, { username: 'isv', password: PASSWORD, role: 'admin' }, 'cli')
    await createAdminUser(
      deps,
      {
        username: 'ops-b',
        password: PASSWORD,
        role: 'operator',
        merchants: [{ merchantId: other, role: 'operator' }],
      },
      'cli',
    )
    app = await buildRoleApp('management', deps, (scope) =>
      registerManagement(scope, deps, { consoleDir }),
    )
    await app.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await app?.close()
    await db?.destroy()
  })

  it('shows a platform admin a switcher, and the pages follow the merchant chosen', async () => {
    const page = await signIn('isv')
    await open(page, '/shops')
    expect(await page.locator('[data-testid="merchant-switcher"]').count()).toBe(1)
    await page.waitForSelector('text=甲 一号店')
    await shot(page, '01-platform-admin-merchant-a')
    await page.click('[data-testid="merchant-switcher"]')
    await page.click('.ant-select-item-option:has-text("乙商户 分店")')
    await page.waitForSelector('text=乙 旗舰店')
    expect(await page.locator('text=甲 一号店').count()).toBe(0)
    // The option list closes with an animation; the shot shows the page, not the list.
    await page.waitForSelector('.ant-select-dropdown', { state: 'hidden' })
    await shot(page, '02-platform-admin-merchant-b')
    await page.click('[data-testid="merchant-switcher"]')
    await page.waitForSelector('.ant-select-item-option:has-text("默认商户")')
    await shot(page, '02b-platform-admin-switcher-open')
    await page.keyboard.press('Escape')
    // The choice survives a reload.
    await page.reload()
    await page.waitForSelector('text=乙 旗舰店')
    expect(await page.locator('.ant-menu').textContent()).toContain('管理员')
    // The accounts page says who sees what.
    await open(page, '/users')
    await page.waitForSelector('text=ops-b')
    expect(await page.locator('.ant-layout-content').textContent()).toContain('乙商户 分店 · 运营')
    await shot(page, '05-platform-admin-users')
    await page.context().close()
  }, 60_000)

  it("shows a merchant's operator only its merchant, without a switcher", async () => {
    const page = await signIn('ops-b')
    await open(page, '/shops')
    await page.waitForSelector('text=乙 旗舰店')
    expect(await page.locator('[data-testid="merchant-switcher"]').count()).toBe(0)
    expect(await page.locator('.ant-layout-header').textContent()).toContain('乙商户 分店')
    expect(await page.locator('text=甲 一号店').count()).toBe(0)
    // No account management for a merchant's staff.
    expect(await page.locator('.ant-menu').textContent()).not.toContain('管理员')
    await shot(page, '03-merchant-operator')
    await open(page, '/templates')
    await shot(page, '04-merchant-operator-templates')
    await page.context().close()
  }, 60_000)
})
