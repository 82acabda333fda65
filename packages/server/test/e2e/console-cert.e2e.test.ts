// The merchant page of a cert-mode app in a real browser: the certificates' SNs and the expiry
// banner (an app certificate issued for 10 days is within the 30-day warning window).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminUser } from '../../src/modules/admin/index.js'
import { adminClient, emulatorJson, startStack, type Stack } from '../helpers/kaguan.js'

const root = new URL('../../../../', import.meta.url).pathname
const shots = join(root, 'test-output/console')
const executablePath = '/usr/bin/chromium'
const haveBrowser = existsSync(executablePath)

describe.skipIf(!haveBrowser)('the merchant page of a cert-mode app', () => {
  let stack: Stack
  let browser: Browser
  let sns: { appCertSn: string; alipayCertSn: string; alipayRootCertSn: string }

  beforeAll(async () => {
    const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], { cwd: root })
    expect(built.status, built.stderr?.toString()).toBe(0)
    stack = await startStack()
    const registered = await emulatorJson<{
      certs: {
        appCert: string
        alipayPublicCert: string
        alipayRootCert: string
        appCertSn: string
        alipayCertSn: string
        alipayRootCertSn: string
      }
    }>(stack.emulator, 'POST', '/__emulator/apps', {
      appId: stack.appId,
      appPublicKey: stack.appKeys.publicKeyBase64,
      certMode: true,
      appCertValidDays: 10,
    })
    sns = registered.certs
    const admin = await adminClient(stack, 'admin')
    const saved = await admin.request('PUT', '/api/merchants/mch_default/alipay', {
      appId: stack.appId,
      privateKey: stack.appKeys.privateKeyPem,
      gateway: stack.emulator.gatewayUrl,
      signMode: 'cert',
      appCert: registered.certs.appCert,
      alipayPublicCert: registered.certs.alipayPublicCert,
      alipayRootCert: registered.certs.alipayRootCert,
    })
    expect(saved.status, saved.text).toBe(200)
    await createAdminUser(
      stack.kaguan.deps,
      { username: 'cert-admin', password: 'cert-password-123', role: 'admin' },
      'test',
    )
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
  })

  it('shows the SNs and warns before the certificate expires', async () => {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 1400 },
      locale: 'zh-CN',
    })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    await page.goto(stack.kaguan.urls.management!)
    await page.waitForSelector('#username')
    await page.fill('#username', 'cert-admin')
    await page.fill('#password', 'cert-password-123')
    await page.click('button[type="submit"]')
    await page.waitForSelector('.ant-layout-sider')
    await page.goto(`${page.url().split('#')[0]}#/merchant`)
    await page.waitForSelector('[data-testid="cert-expiry-banner"]')
    await page.waitForLoadState('networkidle')
    expect(await page.locator('[data-testid="cert-expiry-banner"]').textContent()).toContain('到期')
    expect(await page.locator('[data-testid="sn-certAppCert"]').textContent()).toBe(sns.appCertSn)
    expect(await page.locator('[data-testid="sn-certAlipayCert"]').textContent()).toBe(
      sns.alipayCertSn,
    )
    expect(await page.locator('[data-testid="sn-certRootCert"]').textContent()).toBe(
      sns.alipayRootCertSn,
    )
    mkdirSync(join(shots, 'zh-CN'), { recursive: true })
    await page.screenshot({ path: join(shots, 'zh-CN', 'merchant-cert-mode.png'), fullPage: true })
  }, 60_000)
})
