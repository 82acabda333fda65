import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '@kaguan/emulator'
import { expect } from 'vitest'
import { startKaguan } from '../../src/roles/start.js'
import { generateRsaKeyPair } from '../../src/shared/rsa-keys.js'
import { testConfig } from './deps.js'
import { emulatorJson, type Stack } from './kaguan.js'
import { capturingLogger } from './logs.js'

/**
 * kaguan run by an ISV (issue 14): the ISV's one Alipay app registered in the emulator, its keys in
 * kaguan's `isv.*` settings, and the emulator's authorisation page pointing back at kaguan's mini role.
 */
export const ISV_APP_ID = '2021009900000001'

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export async function startIsvStack(): Promise<Stack> {
  const emulator = await startEmulator({ port: 0, notifyTimeFactor: 0.001 })
  const miniPort = await freePort()
  const mini = `http://127.0.0.1:${miniPort}`
  const appKeys = generateRsaKeyPair()
  const registered = await emulatorJson<{ alipayPublicKey: string }>(
    emulator,
    'POST',
    '/__emulator/apps',
    {
      appId: ISV_APP_ID,
      appPublicKey: appKeys.publicKeyBase64,
      gatewayUrl: `${mini}/alipay/isv/gateway`,
      callbackUrls: [`${mini}/aliCallback`, `${mini}/alipay/app-auth/callback`],
      products: ['member_card', 'koubei'],
    },
  )
  const dir = mkdtempSync(join(tmpdir(), 'kaguan-isv-'))
  const config = testConfig({
    KAGUAN_ROLES: 'management,mini,core,worker',
    KAGUAN_MINI_PORT: String(miniPort),
    KAGUAN_DATABASE_URL: `sqlite:${join(dir, 'kaguan.sqlite')}`,
    KAGUAN_DATA_DIR: dir,
    KAGUAN_WORKER_POLL_MS: '50',
    KAGUAN_ISV_APP_ID: ISV_APP_ID,
    KAGUAN_ISV_PRIVATE_KEY: appKeys.privateKeyPem,
    KAGUAN_ISV_ALIPAY_PUBLIC_KEY: registered.alipayPublicKey,
    KAGUAN_ISV_GATEWAY: emulator.gatewayUrl,
    KAGUAN_ISV_PUBLIC_URL: mini,
  })
  const { log, text } = capturingLogger('debug')
  const kaguan = await startKaguan(config, { log })
  return {
    kaguan,
    emulator,
    logs: text,
    appKeys,
    appId: ISV_APP_ID,
    alipayPublicKey: registered.alipayPublicKey,
    async close() {
      await kaguan.close()
      await emulator.close()
    },
  }
}

/**
 * The merchant's owner opens the link: the emulator's page shows a form; submitting it redirects
 * (302) to kaguan's callback, which redeems the code. Like a browser: fetch follows the redirects.
 */
export async function authoriseAsOwner(
  link: string,
  fields: Record<string, string> = {},
): Promise<{ status: number; html: string }> {
  const page = await fetch(link)
  expect(page.status).toBe(200)
  const html = await page.text()
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]
  expect(action, html).toBeDefined()
  const form = new URLSearchParams()
  for (const m of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    form.set(m[1]!, m[2]!.replaceAll('&amp;', '&').replaceAll('&quot;', '"'))
  }
  for (const [k, v] of Object.entries(fields)) {
    form.set(k, v)
  }
  const done = await fetch(new URL(action!, link), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    redirect: 'follow',
  })
  return { status: done.status, html: await done.text() }
}
