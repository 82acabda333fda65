import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { generateRsaKeyPair, parsePrivateKey, publicKeyBase64 } from './crypto.js'
import { findApp } from './cards.js'
import { MessageChannelServer } from './channel.js'
import { registerAppAuth } from './app-auth.js'
import { registerDriver } from './driver.js'
import { Faults } from './faults.js'
import { registerGateway } from './gateway/gateway.js'
import { parseUrlencoded } from './gateway/request.js'
import { Notifier } from './notifier.js'
import { defaultBehaviour } from './options.js'
import type { EmulatorOptions } from './options.js'
import type { Runtime } from './runtime.js'
import { openStore } from './store.js'
import { registerWallet } from './wallet/wallet.js'

export type { Behaviour, EmulatorOptions } from './options.js'
export { defaultBehaviour } from './options.js'
export type { AppRecord, ShopRecord, UserRecord } from './runtime.js'
export type { FaultKind, FaultSpec } from './faults.js'
export type { NotificationView, NotifyKind } from './notifier.js'
export type { ChannelMessageView } from './channel.js'
export { notifySignContent, requestSignContent, signText, verifyText } from './crypto.js'

/** A started emulator. */
export interface RunningEmulator {
  /** Base URL, e.g. http://127.0.0.1:8090 (the wallet is at `${url}/wallet`). */
  url: string
  /** `${url}/gateway.do`: give this to alipay-sdk as `gateway`. */
  gatewayUrl: string
  /** Stops the server, every notification timer and the database. */
  close(): Promise<void>
}

/** A built (not yet listening) emulator: the Fastify app and its shared state. */
export interface EmulatorApp {
  app: FastifyInstance
  runtime: Runtime
}

/**
 * Builds the emulator's Fastify app. `publicUrl` is needed up front because claim links and image URLs
 * embed it; {@link startEmulator} fills it in after binding when the port is 0.
 */
export function buildEmulatorApp(options: EmulatorOptions & { publicUrl: string }): EmulatorApp {
  const db = openStore(options.dbFile ?? ':memory:')
  let privatePem = options.alipayPrivateKey
  if (privatePem === undefined) {
    const stored = db.prepare("select value from kv where key = 'alipay_private_key'").get() as
      { value: string } | undefined
    privatePem = stored?.value ?? generateRsaKeyPair().privateKey
    // Persisted so that a dbFile-backed emulator keeps the public key merchants configured.
    db.prepare("insert or replace into kv (key, value) values ('alipay_private_key', ?)").run(
      privatePem,
    )
  }
  const alipayKey = parsePrivateKey(privatePem)
  const behaviour = { ...defaultBehaviour, ...options.behaviour }
  const faults = new Faults()
  const notifier = new Notifier({
    db,
    key: alipayKey,
    behaviour,
    faults,
    timeFactor: options.notifyTimeFactor ?? 1 / 60,
  })
  const channel = new MessageChannelServer({
    db,
    key: alipayKey,
    appPublicKey: (appId) => findApp(runtime, appId)?.appPublicKey,
    ackTimeoutMs: () => behaviour.channelAckTimeoutMs,
  })
  const runtime: Runtime = {
    db,
    channel,
    behaviour,
    publicUrl: options.publicUrl.replace(/\/+$/, ''),
    alipayKey,
    alipayPublicKey: publicKeyBase64(alipayKey),
    notifier,
    faults,
  }
  const app = Fastify({ logger: options.log === true, bodyLimit: 60 * 1024 * 1024 })
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      done(null, parseUrlencoded(String(body)))
    },
  )
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, body)
  })
  // Liveness for process managers and scripts waiting for the emulator to come up.
  app.get('/healthz', () => ({ status: 'ok', service: 'alipay-emulator' }))
  registerGateway(app, runtime)
  // The message long connection: register over HTTP, then the WebSocket upgrade at /websocket.
  app.get('/websocket/register.do', async (request, reply) =>
    reply
      .type('application/json;charset=utf-8')
      .send(channel.register(request.query as Record<string, string>)),
  )
  app.server.on('upgrade', (req, socket, head) => channel.upgrade(req, socket, head))
  void app.register(async (scope) => registerDriver(scope, runtime))
  void app.register(async (scope) => registerWallet(scope, runtime))
  app.addHook('preClose', async () => {
    channel.close()
  })
  void app.register(async (scope) => registerAppAuth(scope, runtime))
  app.addHook('onClose', async () => {
    notifier.close()
    db.close()
  })
  return { app, runtime }
}

/** Starts the emulator on host:port (default 127.0.0.1:8090; port 0 = any free port). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 8090
  // With port 0 the public URL is known only after binding; a mutable holder lets routes read it.
  const { app, runtime } = buildEmulatorApp({
    ...options,
    publicUrl: options.publicUrl ?? `http://${host}:${port}`,
  })
  await app.listen({ host, port })
  const address = app.server.address()
  const boundPort = typeof address === 'object' && address !== null ? address.port : port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`
  if (options.publicUrl === undefined) {
    runtime.publicUrl = url
  }
  runtime.notifier.resumePending()
  runtime.channel.start()
  return {
    url,
    gatewayUrl: `${url}/gateway.do`,
    close: async () => {
      await app.close()
    },
  }
}
