import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { generateKeyPairSync } from 'node:crypto'
import { AlipaySdk } from 'alipay-sdk'
import { startEmulator } from '../src/index.js'
import type { EmulatorOptions, RunningEmulator } from '../src/index.js'

/** A merchant key pair as the Alipay key tool makes it (PKCS#8 private, SPKI public). */
export function merchantKeys(): { privateKey: string; publicKey: string; publicKeyBase64: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKeyBase64: pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  }
}

/** Starts an emulator on 127.0.0.1:0 with fast notification retries. */
export function startTestEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ host: '127.0.0.1', port: 0, notifyTimeFactor: 0.0001, ...options })
}

/** POSTs JSON to the driver API. */
export async function drive<T = Record<string, unknown>>(
  emulator: RunningEmulator,
  path: string,
  body?: unknown,
  method = 'POST',
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: (await response.json()) as T }
}

/** Registers an app and answers an SDK pointed at the emulator, response verification on. */
export async function registerApp(
  emulator: RunningEmulator,
  options: {
    appId?: string
    products?: string[]
    callbackUrls?: string[]
    gatewayUrl?: string
    bareKey?: boolean
  } = {},
): Promise<{
  appId: string
  sdk: AlipaySdk
  keys: ReturnType<typeof merchantKeys>
  alipayPublicKey: string
}> {
  const keys = merchantKeys()
  const appId =
    options.appId ??
    `2021${Math.floor(Math.random() * 1e12)
      .toString()
      .padStart(12, '0')}`
  const { status, body } = await drive<{ appId: string; alipayPublicKey: string }>(
    emulator,
    '/__emulator/apps',
    {
      appId,
      appPublicKey: options.bareKey === true ? keys.publicKeyBase64 : keys.publicKey,
      callbackUrls: options.callbackUrls ?? [],
      products: options.products ?? ['member_card', 'koubei'],
      ...(options.gatewayUrl !== undefined ? { gatewayUrl: options.gatewayUrl } : {}),
    },
  )
  if (status !== 200) {
    throw new Error(`register app failed: ${JSON.stringify(body)}`)
  }
  const sdk = new AlipaySdk({
    appId,
    privateKey: keys.privateKey,
    keyType: 'PKCS8',
    alipayPublicKey: body.alipayPublicKey,
    gateway: emulator.gatewayUrl,
    camelcase: false,
    timeout: 15_000,
  })
  return { appId, sdk, keys, alipayPublicKey: body.alipayPublicKey }
}

/** A request a fake merchant received. */
export interface Received {
  method: string
  url: URL
  body: string
  form: Record<string, string>
}

/** A tiny real HTTP server playing the merchant; `answer` decides each response. */
export async function startMerchant(
  answer: (req: Received, res: ServerResponse) => void | Promise<void> = (_r, res) => {
    res.end('success')
  },
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const entry: Received = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://merchant.invalid'),
        body,
        form: Object.fromEntries(new URLSearchParams(body)),
      }
      received.push(entry)
      Promise.resolve(answer(entry, res)).catch((err: unknown) => {
        res.statusCode = 500
        res.end(String(err))
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Waits until `check` returns a value (polling), or fails after `ms`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  ms = 5000,
): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) {
      return value
    }
    if (Date.now() > until) {
      throw new Error('condition not met in time')
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A 1×1 PNG. */
export const tinyPng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)
