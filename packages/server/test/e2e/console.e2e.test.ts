import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminUser } from '../../src/modules/admin/index.js'
import { emulatorCards, eventually, startStack, type Stack } from '../helpers/kaguan.js'

const root = new URL('../../../../', import.meta.url).pathname
const consoleDist = join(root, 'packages/console/dist/index.html')
const shots = join(root, 'test-output/console')
const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname

const executablePath = '/usr/bin/chromium'
const haveBrowser = existsSync(executablePath)
const requireBrowser = process.env.KAGUAN_TEST_REQUIRE_BROWSER === '1'
if (!haveBrowser && !requireBrowser) {
  console.warn(
    `[server] ${executablePath} not found: skipping the console journey (install: apt-get install -y chromium)`,
  )
}

const USER = 'journey-admin'
const PASSWORD = 'journey-password-123'
const MOBILE = '13812345678'

/** The console page at a hash route, once its title shows. */
async function open(page: Page, route: string): Promise<void> {
  await page.goto(`${page.url().split('#')[0]}#${route}`)
  await page.waitForSelector('.ant-layout-content h3')
  await page.waitForLoadState('networkidle')
}

async function shot(page: Page, lang: string, name: string): Promise<void> {
  mkdirSync(join(shots, lang), { recursive: true })
  await page.screenshot({ path: join(shots, lang, `${name}.png`), fullPage: true })
}

describe.skipIf(!haveBrowser && !requireBrowser)('the console in a real browser', () => {
  let stack: Stack
  let browser: Browser
  let staff: BrowserContext
  // The customer's browser: the wallet keeps its signed-in user in a cookie.
  let customer: BrowserContext
  let page: Page
  let templateId = ''
  let cardId = ''
  let claimUrl = ''
  const browserErrors: string[] = []

  beforeAll(async () => {
    if (!haveBrowser) {
      throw new Error(`KAGUAN_TEST_REQUIRE_BROWSER=1 but ${executablePath} is missing`)
    }
    // `npm test` builds the console first; a bare vitest run after an edit may not have, so the
    // same script runs here (a directory walk when dist/ is up to date).
    const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], { cwd: root })
    expect(built.status, built.stderr?.toString()).toBe(0)
    expect(existsSync(consoleDist)).toBe(true)
    stack = await startStack()
    const { deps } = stack.kaguan
    await createAdminUser(deps, { username: USER, password: PASSWORD, role: 'admin' }, 'test')
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
    staff = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' })
    page = await staff.newPage()
    customer = await browser.newContext({ locale: 'zh-CN' })
    page.setDefaultTimeout(10_000)
    page.on('pageerror', (e) => browserErrors.push(e.message))
    page.on('console', (m) => m.type() === 'error' && browserErrors.push(m.text()))
  }, 120_000)

  afterAll(async () => {
    if (browserErrors.length) {
      console.warn(`[console] browser errors:\n${browserErrors.join('\n')}`)
    }
    await page?.screenshot({ path: join(shots, 'last.png'), fullPage: true }).catch(() => undefined)
    await browser?.close()
    await stack?.close()
  })

  it('signs in, in Chinese by default', async () => {
    await page.goto(stack.kaguan.urls.management!)
    await page.waitForSelector('#username')
    expect(await page.locator('button[type="submit"]').textContent()).toContain('登')
    await shot(page, 'zh-CN', '01-login')
    await page.fill('#username', USER)
    await page.fill('#password', 'wrong-password-xx')
    await page.click('button[type="submit"]')
    await page.waitForSelector('.ant-message-error')
    await page.fill('#password', PASSWORD)
    await page.click('button[type="submit"]')
    await page.waitForSelector('.ant-layout-sider')
    expect(await page.locator('.ant-menu').textContent()).toContain('会员卡模板')
  }, 60_000)

  it('configures the merchant against the emulator and shows the fingerprints and addresses', async () => {
    await open(page, '/merchant')
    await page.fill('#appId', stack.appId)
    await page.fill('#privateKey', stack.appKeys.privateKeyPem)
    await page.fill('#alipayPublicKey', stack.alipayPublicKey)
    await page.locator('label:has-text("自定义地址")').click()
    await page.fill('#gatewayUrl', stack.emulator.gatewayUrl)
    await page.click('[data-testid="save-alipay"]')
    await page.waitForSelector('[data-testid="private-key-fingerprint"]')
    expect(await page.locator('[data-testid="private-key-fingerprint"]').textContent()).toMatch(
      /\S{8,}/,
    )
    await page.fill('#publicBaseUrl', stack.kaguan.urls.mini!)
    await page.click('[data-testid="save-public-url"]')
    await page.waitForSelector('[data-testid="app-gateway-address"]')
    expect(await page.locator('[data-testid="app-gateway-address"]').textContent()).toContain(
      stack.kaguan.urls.mini!,
    )
  }, 60_000)

  it('creates shops; the one without an Alipay shop id carries a warning', async () => {
    await open(page, '/shops')
    for (const [name, alipayShopId] of [
      ['西湖店', '2088000000000101'],
      ['滨江店', ''],
    ] as const) {
      await page.click('[data-testid="new-shop"]')
      await page.fill('.ant-modal #name', name)
      await page.fill('.ant-modal #address', '杭州市')
      if (alipayShopId) {
        await page.fill('.ant-modal #alipayShopId', alipayShopId)
      }
      await page.click('.ant-modal-footer .ant-btn-primary')
      await page.waitForSelector(`td:has-text("${name}")`)
    }
    const row = page.locator('tr', { hasText: '滨江店' })
    expect(await row.locator('.ant-tag-warning').count()).toBe(1)
    expect(
      await page.locator('tr', { hasText: '西湖店' }).locator('.ant-tag-warning').count(),
    ).toBe(0)
  }, 60_000)

  it('designs a template with images, columns, two levels, actions and form fields, with a live preview', async () => {
    await open(page, '/templates/new')
    await page.fill('#basic_name', '咖啡会员卡')
    expect(await page.locator('[data-testid="preview-title"]').textContent()).toBe('咖啡会员卡')
    const uploads = page.locator('.ant-upload input[type="file"]')
    await uploads.nth(0).setInputFiles(fixture('logo.png'))
    await eventually(
      async () => (await page.locator('.ant-image img').count()) >= 1,
      'the logo uploaded',
    )
    await uploads.nth(1).setInputFiles(fixture('background.png'))
    await eventually(
      async () => (await page.locator('.ant-image img').count()) >= 2,
      'both images uploaded',
    )
    expect(await page.locator('[data-testid="card-preview"] img').count()).toBe(1)
    // A third column with custom text.
    await page.click('[data-testid="add-column"]')
    await page.fill('#columns_2_title', '会员日')
    await page.fill('#columns_2_value', '每周三')
    for (const [i, code, name] of [
      [0, 'SILVER', '银卡'],
      [1, 'GOLD', '金卡'],
    ] as const) {
      await page.click('[data-testid="add-level"]')
      await page.fill(`#levels_${i}_code`, code)
      await page.fill(`#levels_${i}_name`, name)
    }
    await page.fill('#defaults_point', '100')
    for (const [i, text] of [
      [0, '积分商城'],
      [1, '门店导航'],
    ] as const) {
      await page.click('[data-testid="add-action"]')
      await page.fill(`#actions_${i}_text`, text)
      // Alipay lists only mini-program actions in the card bag: the first is one, the second a page.
      if (i === 0) {
        await page.locator(`#actions_${i}_target_kind label:has-text("小程序")`).click()
        await page.fill(`#actions_${i}_target_appId`, '2021000000000099')
        await page.fill(`#actions_${i}_target_page`, 'pages/mall/index')
      } else {
        await page.fill(`#actions_${i}_target_url`, `https://shop.example.com/${i}`)
      }
    }
    await page.locator('[data-testid="form-field-name"] label:has-text("必填")').click()
    await page.locator('[data-testid="form-field-gender"] label:has-text("选填")').click()
    const cells = await page.locator('[data-testid="preview-cell"]').allTextContents()
    expect(cells).toEqual(['100积分', '银卡等级', '每周三会员日'])
    expect(await page.locator('[data-testid="card-preview"]').textContent()).toContain('积分商城')
    // New templates default to 3.1 (极速版), with the reason shown.
    expect(
      await page.locator('[data-testid="open-card-mode"] input[value="3.1"]').isChecked(),
    ).toBe(true)
    await shot(page, 'zh-CN', '05-template-editor')
    await page.click('[data-testid="save-template"]')
    // Saving navigates to the template; a refusal shows the API's message, which the failure names.
    await Promise.race([
      page.waitForURL(/#\/templates\/tpl_[^/]+$/, { timeout: 15_000 }),
      page.waitForSelector('.ant-message-error', { timeout: 15_000 }).then(async (el) => {
        throw new Error(`saving the template failed: ${await el.textContent()}`)
      }),
    ])
    templateId = page.url().split('/').pop()!
    expect(await page.locator('[data-testid="template-status"]').first().textContent()).toBe('草稿')
  }, 90_000)

  it('publishes the template and makes a claim link with its QR code', async () => {
    await page.click('[data-testid="publish-template"]')
    await page.click('.ant-popconfirm-buttons .ant-btn-primary')
    await page.waitForSelector('[data-testid="template-status"]:has-text("已发布")', {
      timeout: 20_000,
    })
    await page.fill('[data-testid="claim-link-channel"]', '门店海报')
    await page.click('[data-testid="new-claim-link"]')
    await page.waitForSelector('[data-testid="claim-link-url"]')
    claimUrl = (await page.locator('[data-testid="claim-link-url"]').first().textContent())!.trim()
    expect(claimUrl).toContain(stack.emulator.url)
    await eventually(
      async () =>
        page
          .locator('[data-testid="claim-link-qr"] img, img[data-testid="claim-link-qr"]')
          .first()
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0),
      'the QR image loaded',
    )
    await shot(page, 'zh-CN', '06-template-detail')
  }, 60_000)

  it('a customer claims the card in the emulator wallet', async () => {
    const wallet = await customer.newPage()
    await wallet.goto(claimUrl)
    await wallet.fill('#name', '王小明')
    await wallet.click('button:has-text("创建并登录")')
    await wallet.waitForSelector('[data-testid="claim-form"]')
    expect(await wallet.locator('#OPEN_FORM_FIELD_NAME').getAttribute('required')).not.toBeNull()
    await wallet.fill('#OPEN_FORM_FIELD_MOBILE', MOBILE)
    await wallet.fill('#OPEN_FORM_FIELD_NAME', '王小明')
    await wallet.check('input[name="agree"]')
    await wallet.click('button:has-text("领取会员卡")')
    // A new template opens 3.1 (极速版), the console's default: the card opens inside the wallet
    // through kaguan's SPI, no callback page; kaguan stores it when Alipay's result message comes.
    await wallet.waitForSelector('[data-column="POINT"]', { timeout: 20_000 })
    await eventually(
      async () =>
        (await stack.kaguan.deps.db.selectFrom('cards').select('id').executeTakeFirst()) !==
        undefined,
      'the card committed by the open-card result message',
    )
    await wallet.close()
  }, 60_000)

  it('finds the member, adjusts the points with a reason, and the wallet card shows the change', async () => {
    await open(page, '/members')
    await page.locator('.ant-input-search input').fill(MOBILE)
    await page.locator('.ant-input-search input').press('Enter')
    await page.waitForSelector('[data-testid="member-card-link"]')
    await shot(page, 'zh-CN', '07-members')
    await page.click('[data-testid="member-card-link"]')
    await page.waitForSelector('[data-testid="card-points"]')
    cardId = page.url().split('/').pop()!
    expect(await page.locator('[data-testid="card-points"]').textContent()).toBe('100')
    await page.fill('#delta', '50')
    await page.fill('#reason', '开业活动赠送')
    await page.click('[data-testid="adjust-submit"]')
    await page.waitForSelector('[data-testid="card-points"]:text-is("150")', { timeout: 15_000 })
    expect(await page.locator('td:has-text("开业活动赠送")').count()).toBeGreaterThan(0)
    await shot(page, 'zh-CN', '08-member-card')

    const [card] = await emulatorCards(stack, { templateId: await templateAlipayId() })
    expect(card).toBeDefined()
    const wallet = await customer.newPage()
    await eventually(
      async () => {
        await wallet.goto(`${stack.emulator.url}/wallet/cards/${card!.bizCardNo}`)
        return (await wallet.locator('[data-column="POINT"]').textContent()) === '150'
      },
      'the wallet card shows 150 points',
      20_000,
    )
    await wallet.close()
  }, 90_000)

  it('blocks the customer from claiming, shown on the card and the members page, then unblocks', async () => {
    await open(page, `/members/cards/${cardId}`)
    await page.click('[data-testid="member-block"]')
    await page.fill('[data-testid="reason-input"]', '多账号领取开卡礼')
    await page.click('[data-testid="reason-ok"]')
    await page.waitForSelector('[data-testid="member-blocked"]')
    expect(await page.locator('[data-testid="member-blocked"]').textContent()).toContain(
      '多账号领取开卡礼',
    )
    await shot(page, 'zh-CN', '08-member-card-blocked')
    await open(page, '/members')
    await page.waitForSelector('[data-testid="claim-blocks"] td:has-text("多账号领取开卡礼")')
    await page.locator('[data-testid="claim-blocks"] button:has-text("解除禁止")').click()
    await page.waitForSelector('[data-testid="claim-blocks"] .ant-table-placeholder')
  }, 60_000)

  async function templateAlipayId(): Promise<string> {
    const res = await page.evaluate(
      async (id) => (await fetch(`/api/templates/${id}`)).json(),
      templateId,
    )
    return (res as { alipayTemplateId: string }).alipayTemplateId
  }

  it('switches to English and back; every page is captured in both languages', async () => {
    const pages: [string, string][] = [
      ['02-dashboard', '/dashboard'],
      ['03-merchant', '/merchant'],
      ['04-shops', '/shops'],
      ['05-templates', '/templates'],
      ['05-template-editor', `/templates/${templateId}/edit`],
      ['06-template-detail', `/templates/${templateId}`],
      ['07-members', '/members'],
      ['08-member-card', `/members/cards/${cardId}`],
      ['09-deliveries', '/deliveries'],
      ['10-audit', '/audit'],
      ['11-users', '/users'],
      ['12-account', '/account'],
    ]
    // On 运维, reconcile runs as a job: the bar counts checked/total, then the report replaces it.
    const reconcile = async (lang: string) => {
      await page.click('[data-testid="reconcile"]')
      await page.waitForSelector('[data-testid="reconcile-report"]', { timeout: 20_000 })
      expect(await page.locator('[data-testid="reconcile-report"]').textContent()).toMatch(
        lang === 'en' ? /Done: cards checked: \d+/ : /核对完成：检查了 \d+ 张卡/,
      )
      await shot(page, lang, '09-deliveries-reconcile')
    }
    for (const [name, route] of pages) {
      await open(page, route)
      await shot(page, 'zh-CN', name)
      if (name === '09-deliveries') {
        await reconcile('zh-CN')
      }
    }
    await page.locator('[data-testid="language-switch"] label:has-text("English")').click()
    await page.waitForSelector('.ant-menu:has-text("Members")')
    for (const [name, route] of pages) {
      await open(page, route)
      await shot(page, 'en', name)
      if (name === '09-deliveries') {
        await reconcile('en')
      }
    }
    // Ant Design's own texts follow too (the table's pagination, the date picker).
    await open(page, '/audit')
    expect(await page.locator('.ant-picker input').first().getAttribute('placeholder')).toBe(
      'Start date',
    )
    await page.locator('[data-testid="language-switch"] label:has-text("中文")').click()
    await page.waitForSelector('.ant-menu:has-text("会员")')
    // Signing out shows the sign-in page, in the language chosen.
    await page.click('[data-testid="user-menu"]')
    await page.locator('.ant-dropdown-menu-item:has-text("退出登录")').click()
    await page.waitForSelector('#username')
    await shot(page, 'zh-CN', '01-login')
    await page.locator('[data-testid="language-switch"] label:has-text("English")').click()
    await shot(page, 'en', '01-login')
  }, 180_000)
})
