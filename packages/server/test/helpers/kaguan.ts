import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type RunningEmulator } from '@kaguan/emulator'
import type { Role } from '../../src/config.js'
import { createAdminUser, type AdminRole } from '../../src/modules/admin/index.js'
import { startKaguan, type RunningKaguan } from '../../src/roles/start.js'
import { generateRsaKeyPair, type RsaKeyPair } from '../../src/shared/rsa-keys.js'
import { testConfig } from './deps.js'
import { capturingLogger } from './logs.js'

/** kaguan with real HTTP on loopback, the emulator beside it, and every log line kept for checks. */
export interface Stack {
  kaguan: RunningKaguan
  emulator: RunningEmulator
  logs: () => string
  appKeys: RsaKeyPair
  appId: string
  alipayPublicKey: string
  close(): Promise<void>
}

export async function startStack(options: { roles?: Role[]; products?: string[]; appId?: string } = {}): Promise<Stack> {
  const emulator = await startEmulator({ port: 0 })
  const dir = mkdtempSync(join(tmpdir(), 'kaguan-e2e-'))
  const dbUrl = process.env.KAGUAN_TEST_E2E_DIALECT === 'postgres' && process.env.KAGUAN_TEST_PG_URL ? process.env.KAGUAN_TEST_PG_URL : `sqlite:${join(dir, 'kaguan.sqlite')}`
  const config = testConfig({ KAGUAN_ROLES: (options.roles ?? ['management', 'mini', 'core', 'worker']).join(','), KAGUAN_DATABASE_URL: dbUrl, KAGUAN_DATA_DIR: dir })
  const { log, text } = capturingLogger('debug')
  const kaguan = await startKaguan(config, { log })
  const appKeys = generateRsaKeyPair()
  const appId = options.appId ?? '2021000000000001'
  const registered = await emulatorJson<{ alipayPublicKey: string }>(emulator, 'POST', '/__emulator/apps', {
    appId,
    appPublicKey: appKeys.publicKeyBase64,
    gatewayUrl: `${kaguan.urls.mini ?? 'http://127.0.0.1:1'}/alipay/gateway`,
    callbackUrls: [`${kaguan.urls.mini ?? 'http://127.0.0.1:1'}/aliCallback`],
    products: options.products ?? ['member_card', 'koubei'],
  })
  return {
    kaguan,
    emulator,
    logs: text,
    appKeys,
    appId,
    alipayPublicKey: registered.alipayPublicKey,
    async close() {
      await kaguan.close()
      await emulator.close()
    },
  }
}

export async function emulatorJson<T = unknown>(emulator: RunningEmulator, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${emulator.url}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined })
  if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

/** A signed-in admin API client (session cookie + CSRF header), over real HTTP. */
export interface AdminClient {
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string; headers: Headers }>
}

export async function adminClient(stack: Stack, role: AdminRole, username = `${role}user`): Promise<AdminClient> {
  const password = `${role}-password-123`
  const { deps } = stack.kaguan
  await createAdminUser(deps.handle.db, deps, { username, password, role }, 'test')
  const base = stack.kaguan.urls.management!
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`)
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
  const { csrfToken } = (await login.json()) as { csrfToken: string }
  return {
    async request(method, path, body) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { cookie, 'x-csrf-token': csrfToken, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      })
      const text = await res.text()
      let parsed: unknown = undefined
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = undefined
      }
      return { status: res.status, body: parsed, text, headers: res.headers }
    },
  }
}
