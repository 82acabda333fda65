import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import type { AlipaySdk } from 'alipay-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '../src/index.js'
import { drive, registerApp, startMerchant, startTestEmulator } from './helpers.js'

const executablePath = '/usr/bin/chromium'
const haveBrowser = existsSync(executablePath)
const requireBrowser = process.env.KAGUAN_TEST_REQUIRE_BROWSER === '1'
if (!haveBrowser && !requireBrowser) {
  console.warn(
    `[emulator] ${executablePath} not found: skipping the wallet browser test (install: apt-get install -y chromium)`,
  )
}

type Result = Record<string, unknown>

describe.skipIf(!haveBrowser && !requireBrowser)('simulated wallet in a real browser', () => {
  let emulator: RunningEmulator
  let merchant: Awaited<ReturnType<typeof startMerchant>>
  let browser: Browser
  let sdk: AlipaySdk
  let applyCardUrl: string

  beforeAll(async () => {
    if (!haveBrowser) {
      throw new Error(`KAGUAN_TEST_REQUIRE_BROWSER=1 but ${executablePath} is missing`)
    }
    emulator = await startTestEmulator()
    // The merchant: exchanges the auth code, reads the form, opens the card, sends the user back.
    merchant = await startMerchant(async (req, res) => {
      if (req.url.pathname !== '/aliCallback') {
        res.end('success')
        return
      }
      const q = req.url.searchParams
      const token = (await sdk.exec(
        'alipay.system.oauth.token',
        { grantType: 'authorization_code', code: q.get('auth_code') },
        { validateSign: true },
      )) as Result
      const form = (await sdk.exec(
        'alipay.marketing.card.activateform.query',
        {
          authToken: token.access_token,
          bizContent: {
            biz_type: 'MEMBER_CARD',
            template_id: q.get('template_id'),
            request_id: q.get('request_id'),
          },
        },
        { validateSign: true },
      )) as Result
      const infos = JSON.parse(form.infos as string) as Record<string, string>[]
      const mobile =
        infos.find((i) => i.OPEN_FORM_FIELD_MOBILE !== undefined)?.OPEN_FORM_FIELD_MOBILE ?? ''
      const opened = (await sdk.exec(
        'alipay.marketing.card.open',
        {
          authToken: token.access_token,
          bizContent: {
            out_serial_no: `open-${String(q.get('request_id'))}`,
            card_template_id: q.get('template_id'),
            card_user_info: { user_uni_id: token.user_id, user_uni_id_type: 'UID' },
            card_ext_info: { external_card_no: `M${mobile}`, point: '88', level: 'GOLD' },
          },
        },
        { validateSign: true },
      )) as Result
      res.statusCode = 302
      res.setHeader(
        'location',
        `${emulator.url}/wallet/cards/${String((opened.card_info as Result).biz_card_no)}`,
      )
      res.end()
    })
    const registered = await registerApp(emulator, {
      callbackUrls: [`${merchant.url}/aliCallback`],
    })
    sdk = registered.sdk
    const created = (await sdk.exec('alipay.marketing.card.template.create', {
      bizContent: {
        request_id: 'w1',
        card_type: 'OUT_MEMBER_CARD',
        biz_no_suffix_len: '10',
        write_off_type: 'qrcode',
        template_style_info: { card_show_name: '浏览器会员卡', bg_color: 'rgb(255,255,255)' },
        column_info_list: [
          { code: 'POINT', title: '积分' },
          { code: 'LEVEL', title: '等级' },
        ],
        card_level_conf: [{ level: 'GOLD', level_show_name: '金卡' }],
        shop_ids: ['far', 'near'],
      },
    })) as Result
    await drive(emulator, '/__emulator/shops', {
      shopId: 'far',
      name: '远店',
      lat: 31.23,
      lng: 121.47,
    })
    await drive(emulator, '/__emulator/shops', {
      shopId: 'near',
      name: '近店',
      lat: 30.275,
      lng: 120.155,
    })
    await sdk.exec('alipay.marketing.card.formtemplate.set', {
      bizContent: {
        template_id: created.template_id,
        fields: { required: '{"common_fields":["OPEN_FORM_FIELD_MOBILE"]}' },
      },
    })
    const link = (await sdk.exec('alipay.marketing.card.activateurl.apply', {
      bizContent: { template_id: created.template_id, callback: `${merchant.url}/aliCallback` },
    })) as Result
    applyCardUrl = decodeURIComponent(link.apply_card_url as string)
    browser = await chromium.launch({
      executablePath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await merchant?.close()
    await emulator?.close()
  })

  it('creates a user, claims a card through the form and sees it in the card bag', async () => {
    const page = await browser.newPage()
    await page.goto(applyCardUrl)
    await page.fill('#name', '李四')
    await page.click('button:has-text("创建并登录")')
    await page.waitForSelector('[data-testid="claim-form"]')
    await page.fill('#OPEN_FORM_FIELD_MOBILE', '13712345678')
    await page.check('input[name="agree"]')
    await page.click('button:has-text("领取会员卡")')
    // Redirected to the merchant, which opened the card and sent the user to its detail page.
    await page.waitForSelector('[data-testid="code"]')
    expect(await page.textContent('[data-testid="code-value"]')).toBe('M13712345678')
    expect(await page.textContent('[data-column="POINT"]')).toBe('88')
    expect(await page.textContent('[data-column="LEVEL"]')).toBe('金卡')
    const shops = await page.locator('[data-testid="shops"] li').allTextContents()
    expect(shops[0]).toContain('近店')
    await page.goto(`${emulator.url}/wallet/cards`)
    const bag = await page
      .locator('[data-testid="card-bag"] [data-testid="card"]')
      .allTextContents()
    expect(bag).toHaveLength(1)
    expect(bag[0]).toContain('浏览器会员卡')
    await page.close()
  })
})
