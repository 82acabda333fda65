import { mkdtempSync, readFileSync } from 'node:fs'
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

export async function startStack(
  options: {
    roles?: Role[]
    products?: string[]
    appId?: string
    databaseUrl?: string
    /** More settings (KAGUAN_* variables) for kaguan. */
    env?: Record<string, string>
    /** The app's OpenID stage in the emulator (default `both`). */
    userIdMode?: 'user_id' | 'both' | 'open_id'
  } = {},
): Promise<Stack> {
  const emulator = await startEmulator({ port: 0, notifyTimeFactor: 0.001 })
  const dir = mkdtempSync(join(tmpdir(), 'kaguan-e2e-'))
  const dbUrl = options.databaseUrl ?? `sqlite:${join(dir, 'kaguan.sqlite')}`
  const config = testConfig({
    KAGUAN_ROLES: (options.roles ?? ['management', 'mini', 'core', 'worker']).join(','),
    KAGUAN_DATABASE_URL: dbUrl,
    KAGUAN_DATA_DIR: dir,
    KAGUAN_WORKER_POLL_MS: '50',
    ...options.env,
  })
  const { log, text } = capturingLogger('debug')
  const kaguan = await startKaguan(config, { log })
  const appKeys = generateRsaKeyPair()
  const appId = options.appId ?? '2021000000000001'
  const registered = await emulatorJson<{ alipayPublicKey: string }>(
    emulator,
    'POST',
    '/__emulator/apps',
    {
      appId,
      appPublicKey: appKeys.publicKeyBase64,
      gatewayUrl: `${kaguan.urls.mini ?? 'http://127.0.0.1:1'}/alipay/gateway`,
      callbackUrls: [`${kaguan.urls.mini ?? 'http://127.0.0.1:1'}/aliCallback`],
      products: options.products ?? ['member_card', 'koubei'],
      ...(options.userIdMode ? { userIdMode: options.userIdMode } : {}),
    },
  )
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

export async function emulatorJson<T = unknown>(
  emulator: RunningEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${emulator.url}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  if (!res.ok) {
    throw new Error(`emulator ${method} ${path}: ${res.status} ${await res.text()}`)
  }
  return (await res.json()) as T
}

/** A signed-in admin API client (session cookie + CSRF header), over real HTTP. */
export interface AdminClient {
  request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any; text: string; headers: Headers }>
}

export async function adminClient(
  stack: Stack,
  role: AdminRole,
  username = `${role}user`,
): Promise<AdminClient> {
  const password = `${role}-password-123`
  const { deps } = stack.kaguan
  await createAdminUser(deps, { username, password, role }, 'test')
  const base = stack.kaguan.urls.management!
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  if (login.status !== 200) {
    throw new Error(`login failed: ${login.status} ${await login.text()}`)
  }
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
  const { csrfToken } = (await login.json()) as { csrfToken: string }
  return {
    async request(method, path, body) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          cookie,
          'x-csrf-token': csrfToken,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
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

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url)).toString('base64')

/** Points the default merchant at the emulator (and optionally a CRM); uploads the style images. */
export async function configureMerchant(
  stack: Stack,
  admin: AdminClient,
  crm?: { baseUrl: string; token: string; publicKey: string },
): Promise<{ logoId: string; backgroundId: string }> {
  const ok = (r: { status: number; text: string }) => {
    if (r.status >= 300) {
      throw new Error(`${r.status} ${r.text}`)
    }
  }
  ok(
    await admin.request('PUT', '/api/merchants/mch_default/alipay', {
      appId: stack.appId,
      privateKey: stack.appKeys.privateKeyPem,
      alipayPublicKey: stack.alipayPublicKey,
      gateway: stack.emulator.gatewayUrl,
    }),
  )
  ok(
    await admin.request('PUT', '/api/merchants/mch_default/public-url', {
      publicBaseUrl: stack.kaguan.urls.mini,
    }),
  )
  if (crm) {
    ok(await admin.request('PUT', '/api/merchants/mch_default/crm', { mode: 'crm', ...crm }))
  }
  const logo = await admin.request('POST', '/api/merchants/mch_default/images', {
    name: 'logo',
    type: 'png',
    contentBase64: fixture('logo.png'),
  })
  const bg = await admin.request('POST', '/api/merchants/mch_default/images', {
    name: 'bg',
    type: 'png',
    contentBase64: fixture('background.png'),
  })
  ok(logo)
  ok(bg)
  return { logoId: logo.body.id, backgroundId: bg.body.id }
}

/** A complete template spec using the uploaded images. */
export function cardSpec(
  images: { logoId: string; backgroundId: string },
  overrides: { code?: string; name?: string } = {},
) {
  return {
    basic: { name: overrides.name ?? '测试会员卡', validity: { type: 'permanent' }, shopIds: [] },
    style: {
      logoImageId: images.logoId,
      backgroundImageId: images.backgroundId,
      fontColor: '#FFFFFF',
      backgroundColor: '#333333',
      code: { type: overrides.code ?? 'qr' },
    },
    columns: [
      { kind: 'point', title: '积分' },
      { kind: 'level', title: '等级' },
      { kind: 'balance', title: '余额' },
    ],
    levels: [
      { code: 'SILVER', name: '银卡' },
      { code: 'GOLD', name: '金卡' },
    ],
    actions: [],
    form: {
      fields: [
        { field: 'mobile', required: true },
        { field: 'name', required: true },
        { field: 'gender', required: false },
      ],
    },
    defaults: { point: 10, level: 'SILVER', balance: '0.00' },
  }
}

/** Creates and publishes a template, and makes a claim link. */
export async function publishCard(
  admin: AdminClient,
  spec: unknown,
): Promise<{ templateId: string; alipayTemplateId: string; claimUrl: string }> {
  const created = await admin.request('POST', '/api/merchants/mch_default/templates', { spec })
  if (created.status !== 201) {
    throw new Error(created.text)
  }
  const published = await admin.request('POST', `/api/templates/${created.body.id}/publish`)
  if (published.status !== 200) {
    throw new Error(published.text)
  }
  const link = await admin.request('POST', `/api/templates/${created.body.id}/claim-links`, {
    outString: 'test',
  })
  if (link.status !== 201) {
    throw new Error(link.text)
  }
  return {
    templateId: created.body.id,
    alipayTemplateId: published.body.template.alipayTemplateId,
    claimUrl: link.body.url,
  }
}

/** Waits (bounded) until `check` returns a value. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) {
      return v
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A card as the emulator's driver API lists it (`bizCardNo` is Alipay's number). */
export interface EmulatorCard {
  bizCardNo: string
  externalCardNo: string
  templateId: string
  userId: string
  point: string | number
  level?: string
  balance?: string
  status: string
  code?: string | null
}

/** The emulator's cards, filtered like its driver API (`userId`, `templateId`, `status`). */
export function emulatorCards(
  stack: Stack,
  query: Record<string, string> = {},
): Promise<EmulatorCard[]> {
  return emulatorJson<EmulatorCard[]>(
    stack.emulator,
    'GET',
    `/__emulator/cards?${new URLSearchParams(query)}`,
  )
}
