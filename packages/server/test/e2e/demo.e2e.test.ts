import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DemoInfo } from '../../src/cli/commands/demo/output.js'

const root = new URL('../../../../', import.meta.url).pathname
const main = join(root, 'packages/server/src/cli/main.ts')

const executablePath = '/usr/bin/chromium'
const haveBrowser = existsSync(executablePath)
const requireBrowser = process.env.KAGUAN_TEST_REQUIRE_BROWSER === '1'
if (!haveBrowser && !requireBrowser) {
  console.warn(
    `[server] ${executablePath} not found: skipping the demo's browser tests (install: apt-get install -y chromium)`,
  )
}

/** A running `kaguan demo`, as `npm start` runs it (tsx over the sources). */
interface DemoProcess {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

function startDemo(dataDir: string, offset: number): DemoProcess {
  // Only what the test sets: a developer's KAGUAN_* settings must not change what the demo does.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('KAGUAN_')),
  )
  const child = spawn(
    process.execPath,
    [
      '--conditions=@kaguan/source',
      '--import',
      'tsx',
      main,
      'demo',
      '--data-dir',
      dataDir,
      '--port-offset',
      String(offset),
    ],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let text = ''
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => text, exited }
}

/** Waits for the banner's last line (printed after demo.json is written); fails with the output if the demo dies first. */
async function untilReady(demo: DemoProcess, dataDir: string): Promise<DemoInfo> {
  const deadline = Date.now() + 60_000
  let exitCode: number | null | undefined
  void demo.exited.then((code) => (exitCode = code))
  while (!demo.output().includes('Press Ctrl-C to stop.')) {
    if (exitCode !== undefined) {
      throw new Error(`kaguan demo exited with ${String(exitCode)}:\n${demo.output()}`)
    }
    if (Date.now() > deadline) {
      throw new Error(`kaguan demo did not come up within 60 s:\n${demo.output()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as DemoInfo
}

async function stop(demo: DemoProcess): Promise<number | null> {
  demo.child.kill('SIGINT')
  return demo.exited
}

async function status(url: string): Promise<number> {
  return (await fetch(url)).status
}

async function emulatorCalls(info: DemoInfo, method: string): Promise<unknown[]> {
  const res = await fetch(`${info.emulator.url}/__emulator/calls?method=${method}`)
  const body = (await res.json()) as unknown[] | { calls: unknown[] }
  return Array.isArray(body) ? body : body.calls
}

describe('kaguan demo (npm start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kaguan-demo-'))
  // Not the default ports: a developer's own demo may be running on them.
  const offset = 20_000 + Math.floor(Math.random() * 20_000)
  let demo: DemoProcess
  let first: DemoInfo
  let info: DemoInfo

  beforeAll(async () => {
    demo = startDemo(dataDir, offset)
    first = await untilReady(demo, dataDir)
    info = first
  }, 90_000)

  afterAll(async () => {
    if (demo && demo.child.exitCode === null) {
      demo.child.kill('SIGKILL')
      await demo.exited
    }
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('prints every URL, the admin login and the claim link, and writes the same to demo.json', () => {
    const out = demo.output()
    const password = readFileSync(join(dataDir, 'demo-admin-password.txt'), 'utf8').trim()
    expect(statSync(join(dataDir, 'demo-admin-password.txt')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dataDir, 'demo-app-key.pem')).mode & 0o777).toBe(0o600)
    expect(info.roles.management).toBe(`http://127.0.0.1:${8080 + offset}`)
    expect(info.roles.mini).toBe(`http://127.0.0.1:${8081 + offset}`)
    expect(info.roles.core).toBe(`http://127.0.0.1:${8083 + offset}`)
    expect(info.emulator.url).toBe(`http://127.0.0.1:${8090 + offset}`)
    expect(info.sampleCrm).toEqual({ url: `http://127.0.0.1:${8082 + offset}` })
    expect(info.crm.baseUrl).toBe(info.sampleCrm!.url)
    expect(info).toMatchObject({
      merchantId: 'mch_default',
      admin: { username: 'admin', passwordFile: join(dataDir, 'demo-admin-password.txt') },
    })
    expect(info.templateId).toMatch(/^tpl_/)
    expect(info.alipayTemplateId).toMatch(/^\d+$/)
    expect(info.claimLink).toContain(`${info.emulator.url}/wallet/activecard.htm?`)
    expect(new URL(info.claimLink).searchParams.get('out_string')).toBe('demo')
    // Point collection (issue 10): the demo stamp and exchange activities are published.
    expect(info.stamps?.stampActivityId).toMatch(/^sta_/)
    expect(info.stamps?.exchangePath).toBe(`/stamps/exchange/${info.stamps?.exchangeActivityId}`)
    expect(out).toContain('集点')
    for (const url of [
      ...Object.values(info.roles).map((r) => `${r}/readyz`),
      info.adminApiDocs,
      info.emulator.walletUrl,
      info.sampleCrm!.url,
      info.claimLink,
    ]) {
      expect(out).toContain(url)
    }
    // Where the password is, never the password itself (issue 9, security 8).
    expect(out).toContain(join(dataDir, 'demo-admin-password.txt'))
    expect(out).not.toContain(password)
    expect(out).toContain(join(dataDir, 'demo.json'))
    // The banner is for people: no JSON log lines in the way.
    expect(out).not.toMatch(/^\{"level"/m)
  })

  it('answers on every printed URL, and the printed admin login works', async () => {
    for (const role of Object.values(info.roles)) {
      expect(await status(`${role}/readyz`), role).toBe(200)
    }
    expect(await status(info.adminApiDocs)).toBe(200)
    expect(await status(info.emulator.walletUrl)).toBe(200)
    expect(await status(`${info.sampleCrm!.url}/`)).toBe(200)
    expect(await status(info.claimLink)).toBe(200)
    const login = await fetch(`${info.roles.management}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'admin',
        password: readFileSync(info.admin.passwordFile, 'utf8').trim(),
      }),
    })
    expect(login.status).toBe(200)
    // The card detail lists shops by distance: two shops in Shanghai, on the published template.
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
    const shops = (
      (await (
        await fetch(`${info.roles.management}/api/merchants/mch_default/shops`, {
          headers: { cookie },
        })
      ).json()) as { items: { latitude: number; longitude: number; alipayShopId: string }[] }
    ).items
    expect(shops).toHaveLength(2)
    for (const shop of shops) {
      expect(Math.round(shop.latitude)).toBe(31)
    }
    const [create] = (await emulatorCalls(info, 'alipay.marketing.card.template.create')) as {
      bizContent: { shop_ids: string[] }
    }[]
    expect([...create!.bizContent.shop_ids].sort()).toEqual(shops.map((s) => s.alipayShopId).sort())
  })

  it('stops on Ctrl-C with exit code 0, and a second start on the same data folder reuses everything', async () => {
    expect(await stop(demo)).toBe(0)
    demo = startDemo(dataDir, offset)
    info = await untilReady(demo, dataDir)
    expect(info.templateId).toBe(first.templateId)
    expect(info.alipayTemplateId).toBe(first.alipayTemplateId)
    expect(info.claimLink).toBe(first.claimLink)
    expect(demo.output()).not.toContain(readFileSync(info.admin.passwordFile, 'utf8').trim())
    // The emulator kept its state (emulator.sqlite): one template and two image uploads in all.
    expect(await emulatorCalls(info, 'alipay.marketing.card.template.create')).toHaveLength(1)
    expect(await emulatorCalls(info, 'alipay.offline.material.image.upload')).toHaveLength(2)
    expect(await emulatorCalls(info, 'alipay.marketing.card.activateurl.apply')).toHaveLength(1)
    for (const role of Object.values(info.roles)) {
      expect(await status(`${role}/readyz`), role).toBe(200)
    }
  }, 90_000)

  describe.skipIf(!haveBrowser && !requireBrowser)('the printed claim link in a browser', () => {
    let browser: Browser

    beforeAll(async () => {
      if (!haveBrowser) {
        throw new Error(`KAGUAN_TEST_REQUIRE_BROWSER=1 but ${executablePath} is missing`)
      }
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
    })

    it('opens in the emulator wallet and shows the demo card with its claim form', async () => {
      const page = await browser.newPage()
      await page.goto(info.claimLink)
      await page.fill('#name', '李四')
      await page.click('button:has-text("创建并登录")')
      await page.waitForSelector('[data-testid="claim-form"]')
      expect(await page.content()).toContain('kaguan 咖啡')
      for (const field of [
        'OPEN_FORM_FIELD_MOBILE',
        'OPEN_FORM_FIELD_NAME',
        'OPEN_FORM_FIELD_GENDER',
      ]) {
        expect(await page.locator(`#${field}`).count(), field).toBe(1)
      }
      expect(await page.locator('#OPEN_FORM_FIELD_MOBILE').getAttribute('required')).not.toBeNull()
      expect(await page.locator('#OPEN_FORM_FIELD_GENDER').getAttribute('required')).toBeNull()
      await page.close()
    })

    // The /aliCallback flow is not merged yet; the lead drops this guard when it lands.
    it('claims the card as a new wallet user: kaguan answers the callback and the card is in the card bag', async () => {
      const page = await browser.newPage()
      const callbacks: number[] = []
      page.on('response', (res) => {
        if (res.url().startsWith(`${info.roles.mini}/aliCallback`)) {
          callbacks.push(res.status())
        }
      })
      await page.goto(info.claimLink)
      await page.fill('#name', '王小明')
      await page.click('button:has-text("创建并登录")')
      await page.waitForSelector('[data-testid="claim-form"]')
      await page.fill('#OPEN_FORM_FIELD_MOBILE', '13812345678')
      await page.fill('#OPEN_FORM_FIELD_NAME', '王小明')
      await page.check('input[name="agree"]')
      await page.click('button:has-text("领取会员卡")')
      // The wallet redirects to kaguan's /aliCallback, which opens the card and shows its result page.
      await expect.poll(() => callbacks.length, { timeout: 15_000 }).toBeGreaterThan(0)
      expect(callbacks[0]).toBeLessThan(400)
      await page.waitForSelector('#claim-result[data-status="done"]', { timeout: 15_000 })
      expect(page.url().startsWith(`${info.roles.mini}/aliCallback`)).toBe(true)

      await page.goto(`${info.emulator.url}/wallet/cards`)
      const bag = await page
        .locator('[data-testid="card-bag"] [data-testid="card"]')
        .allTextContents()
      expect(bag).toHaveLength(1)
      expect(bag[0]).toContain('kaguan 咖啡')
      // CRM mode: the sample CRM registered the member that kaguan asked about.
      const members = (await (await fetch(`${info.sampleCrm!.url}/api/members`)).json()) as unknown
      expect(JSON.stringify(members)).toContain('13812345678')
      await page.close()
    }, 60_000)
  })

  it('stops everything on SIGINT and exits 0', async () => {
    expect(await stop(demo)).toBe(0)
    await expect(fetch(`${info.roles.management}/readyz`)).rejects.toThrow()
    await expect(fetch(info.emulator.walletUrl)).rejects.toThrow()
    await expect(fetch(`${info.sampleCrm!.url}/`)).rejects.toThrow()
  }, 30_000)
})
