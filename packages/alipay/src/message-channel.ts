import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { buildSignContent, signContent, verifyContent, type SignType } from './keys.js'

/**
 * Alipay's message long connection (消息服务 长连接, WebSocket). Only the Java SDK has a client
 * (`com.alipay.api.msg.AlipayMsgClient`); this one speaks the same protocol (docs/alipay-message-channel.md):
 *
 * 1. `GET <base>/websocket/register.do?app_id&charset&timestamp&sign_type&sdk_version&nonce&sign`
 *    (signed with the app key over the sorted parameters but `sign`) → `{"response":{"code":"10000",
 *    "link_token":…},"sign":…}`, the `response` node signed by Alipay; an optional `zone` cookie.
 * 2. `ws(s)://<host>/websocket?app_id&charset&link_token&timestamp&sign_type&sdk_version&sign`.
 * 3. Frames: header lines `key:value` CRLF-separated, a blank line, then JSON
 *    `{"protocol":{x-type,x-cmd,x-msgId,x-sign,x-signType,x-charset,x-timestamp,…},"data":{…}}`;
 *    the signature covers the raw text of the `data` object.
 * 4. `CONSUME` → the handler → `CONSUME_ACK` with the same stream-id and x-msgId, `x-status`
 *    SUCCESS or FAIL (FAIL: Alipay delivers again).
 *
 * Unlike the Java client, a frame whose signature does not verify is refused: not handled and not
 * acked (Alipay redelivers it; a forged frame just goes unanswered). The handler is awaited before
 * the ack, so SUCCESS means the message is durably handled; a redelivery of a message whose handling
 * is still running here waits for that run instead of starting another.
 */

/** The production long-connection host (Alipay's docs: `openchannel.alipay.com`, TLS). */
export const ALIPAY_CHANNEL_PRODUCTION = 'https://openchannel.alipay.com'
/** The sandbox host: assumed by analogy (not confirmed by a source we could read). */
export const ALIPAY_CHANNEL_SANDBOX = 'https://openchannel-sandbox.dl.alipaydev.com'

/** What the Java SDK reports in `sdk_version`; Alipay may log it. */
const SDK_VERSION = 'kaguan-node-1.0'

export const CRLF = '\r\n'

/** One frame: header lines and the JSON body (text kept, for the signature). */
export interface ChannelFrame {
  headers: Record<string, string>
  /** The JSON body as received (empty when the frame has none). */
  body: string
}

/** Parses `k:v\r\n…\r\n\r\n<json>`; null when there is no blank line. */
export function parseFrame(text: string): ChannelFrame | null {
  const split = text.indexOf(CRLF + CRLF)
  if (split < 0) {
    return null
  }
  const headers: Record<string, string> = {}
  for (const line of text.slice(0, split).split(CRLF)) {
    const colon = line.indexOf(':')
    if (colon > 0) {
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
    }
  }
  return { headers, body: text.slice(split + 4) }
}

/** Builds a frame; an empty header block is one CRLF, as the Java SDK writes it. */
export function formatFrame(headers: Record<string, string | undefined>, body: string): string {
  const lines = Object.entries(headers)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .map(([k, v]) => `${k}:${v}${CRLF}`)
    .join('')
  return `${lines === '' ? CRLF : lines}${CRLF}${body}`
}

/** The end (exclusive) of the JSON value starting at `start`, string-aware; -1 when unbalanced. */
function valueEnd(text: string, start: number): number {
  const first = text[start]
  if (first === '"') {
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === '\\') {
        i++
      } else if (text[i] === '"') {
        return i + 1
      }
    }
    return -1
  }
  if (first === '{' || first === '[') {
    let depth = 0
    for (let i = start; i < text.length; i++) {
      const c = text[i]
      if (c === '"') {
        const end = valueEnd(text, i)
        if (end < 0) {
          return -1
        }
        i = end - 1
      } else if (c === '{' || c === '[') {
        depth++
      } else if (c === '}' || c === ']') {
        depth--
        if (depth === 0) {
          return i + 1
        }
      }
    }
    return -1
  }
  const m = /^[^,}\]\s]+/.exec(text.slice(start))
  return m ? start + m[0].length : -1
}

/**
 * The raw text of each top-level member of a JSON object (what the signature covers is the `data`
 * member exactly as sent). Null when the text is not a well-formed object.
 */
export function topLevelMembers(text: string): Record<string, string> | null {
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return null
    }
  } catch {
    return null
  }
  const out: Record<string, string> = {}
  let i = text.indexOf('{') + 1
  const skip = () => {
    while (i < text.length && /[\s,]/.test(text[i] ?? '')) {
      i++
    }
  }
  for (let guard = 0; guard < 1000; guard++) {
    skip()
    if (text[i] !== '"') {
      break
    }
    const keyEnd = valueEnd(text, i)
    const key = JSON.parse(text.slice(i, keyEnd)) as string
    i = text.indexOf(':', keyEnd) + 1
    while (/\s/.test(text[i] ?? '')) {
      i++
    }
    const end = valueEnd(text, i)
    if (end < 0) {
      return null
    }
    out[key] = text.slice(i, end)
    i = end
  }
  return out
}

/** A verified CONSUME message. */
export interface ChannelMessage {
  /** `x-msgId`: Alipay's id of the message, the same on every redelivery. */
  messageId: string
  /** `data.header.msgApi`, e.g. `alipay.user.opencard.result.notify`. */
  msgApi: string
  appId: string
  /** `data.content` as its JSON text (the message's biz content). */
  contentText: string
  /** `data.content` parsed (an object for every message we know). */
  content: unknown
  /** `x-timestamp`, ms since the epoch, when sent. */
  timestamp: number | undefined
}

export type ConsumeVerification =
  | { ok: true; message: ChannelMessage }
  | {
      ok: false
      reason: 'bad-frame' | 'not-consume' | 'missing-sign' | 'bad-signature'
      messageId?: string
    }

/** Checks a CONSUME frame's body against the Alipay public key (strict: no signature, no message). */
export function verifyConsume(body: string, alipayPublicKey: string): ConsumeVerification {
  const members = topLevelMembers(body)
  if (!members?.protocol) {
    return { ok: false, reason: 'bad-frame' }
  }
  const protocol = JSON.parse(members.protocol) as Record<string, unknown>
  const messageId = typeof protocol['x-msgId'] === 'string' ? protocol['x-msgId'] : undefined
  const id = messageId !== undefined ? { messageId } : {}
  if (protocol['x-cmd'] !== 'CONSUME') {
    return { ok: false, reason: 'not-consume', ...id }
  }
  const sign = protocol['x-sign']
  const signType = protocol['x-signType'] ?? 'RSA2'
  const data = members.data
  if (typeof sign !== 'string' || sign === '' || data === undefined || messageId === undefined) {
    return { ok: false, reason: 'missing-sign', ...id }
  }
  if (signType !== 'RSA2' && signType !== 'RSA') {
    return { ok: false, reason: 'bad-signature', ...id }
  }
  let verified = false
  try {
    verified = verifyContent(data, sign, alipayPublicKey, signType)
  } catch {
    verified = false
  }
  if (!verified) {
    return { ok: false, reason: 'bad-signature', ...id }
  }
  const dataMembers = topLevelMembers(data)
  const header = dataMembers?.header
    ? (JSON.parse(dataMembers.header) as Record<string, unknown>)
    : {}
  const contentText = dataMembers?.content ?? '{}'
  const ts = Number(protocol['x-timestamp'])
  return {
    ok: true,
    message: {
      messageId,
      msgApi: typeof header.msgApi === 'string' ? header.msgApi : '',
      appId: typeof header.appId === 'string' ? header.appId : '',
      contentText,
      content: JSON.parse(contentText) as unknown,
      timestamp: Number.isFinite(ts) ? ts : undefined,
    },
  }
}

/** The ack frame for a CONSUME frame: same routing headers and stream id, SUCCESS or FAIL. */
export function consumeAckFrame(
  headers: Record<string, string>,
  messageId: string,
  status: 'SUCCESS' | 'FAIL',
): string {
  const protocol = {
    'x-type': 'message',
    'x-cmd': 'CONSUME_ACK',
    'x-msgId': messageId,
    'x-version': '1.0',
    'x-status': status,
  }
  return formatFrame(
    {
      'from-sys': headers['from-sys'],
      'from-sys-ip': headers['from-sys-ip'],
      'stream-id': headers['stream-id'],
    },
    JSON.stringify({ protocol }),
  )
}

/** The long-connection base for a gateway: Alipay's own hosts, else the gateway's origin (the emulator). */
export function channelUrlOf(gatewayUrl: string): string {
  const url = new URL(gatewayUrl)
  if (url.hostname === 'openapi.alipay.com') {
    return ALIPAY_CHANNEL_PRODUCTION
  }
  if (url.hostname.endsWith('alipaydev.com')) {
    return ALIPAY_CHANNEL_SANDBOX
  }
  return url.origin
}

export interface MessageChannelOptions {
  appId: string
  /** The app's private key (PEM or base64); signs register and connect; never logged. */
  privateKey: string
  alipayPublicKey: string
  /** http(s)://host[:port] of the channel server; ws(s) is derived. See {@link channelUrlOf}. */
  serverUrl: string
  signType?: SignType
  /**
   * Handles one verified message; resolve once it is durably handled (SUCCESS is acked), reject
   * to have it redelivered (FAIL is acked). Must be idempotent by `messageId`: Alipay redelivers.
   */
  onMessage: (message: ChannelMessage) => Promise<void>
  /** Told of what happens (metrics, logs); never given a key. */
  onEvent?: (event: ChannelEvent) => void
  /** WebSocket ping interval; default 2000 ms (the Java client's). A pong missing for 3 intervals closes the socket. */
  pingMs?: number
  /** Reconnect back-off: full jitter over min(maxMs, baseMs·2^n); defaults 500 ms, 30 s. */
  backoff?: { baseMs?: number; maxMs?: number }
  /** Register and connect time-outs; default 10 s each. */
  timeoutMs?: number
}

export type ChannelEvent =
  | { type: 'connected' }
  | { type: 'disconnected'; code?: number; reason?: string }
  | { type: 'retry'; inMs: number; error: string }
  | { type: 'acked'; messageId: string; status: 'SUCCESS' | 'FAIL'; msgApi: string }
  | { type: 'refused'; reason: string; messageId?: string }

export interface MessageChannel {
  /** Starts connecting (and keeps reconnecting until stopped). */
  start(): void
  /** Stops: no new messages, waits (bounded) for handlers in flight to ack, closes the socket. */
  stop(): Promise<void>
  readonly connected: boolean
}

function wsUrl(serverUrl: string, path: string, params: Record<string, string>): string {
  const url = new URL(path, serverUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.search = new URLSearchParams(params).toString()
  return url.toString()
}

/** Parses and verifies the register answer; the link token, or throws with what went wrong. */
export function linkTokenOf(answer: string, alipayPublicKey: string, signType: SignType): string {
  const members = topLevelMembers(answer)
  if (!members?.response) {
    throw new Error(`register: not an Alipay answer: ${answer.slice(0, 200)}`)
  }
  const response = JSON.parse(members.response) as Record<string, unknown>
  if (response.code !== '10000' && response.code !== '100000000') {
    throw new Error(
      `register refused: ${String(response.code)} ${String(response.sub_code ?? response.msg ?? '')}`,
    )
  }
  const sign = members.sign ? (JSON.parse(members.sign) as unknown) : undefined
  if (
    typeof sign !== 'string' ||
    !verifyContent(members.response, sign, alipayPublicKey, signType)
  ) {
    throw new Error('register: the answer signature does not verify (wrong Alipay public key?)')
  }
  if (typeof response.link_token !== 'string' || response.link_token === '') {
    throw new Error('register: no link_token in the answer')
  }
  return response.link_token
}

/** Creates a long-connection client for one app. Nothing happens before `start()`. */
export function createMessageChannel(options: MessageChannelOptions): MessageChannel {
  const signType = options.signType ?? 'RSA2'
  const pingMs = options.pingMs ?? 2000
  const baseMs = options.backoff?.baseMs ?? 500
  const maxMs = options.backoff?.maxMs ?? 30_000
  const timeoutMs = options.timeoutMs ?? 10_000
  const emit = (e: ChannelEvent) => {
    try {
      options.onEvent?.(e)
    } catch {
      // a listener's failure is not the channel's
    }
  }
  let running = false
  let socket: WebSocket | undefined
  let isOpen = false
  let attempt = 0
  let retryTimer: NodeJS.Timeout | undefined
  let pingTimer: NodeJS.Timeout | undefined
  /** Message id → the handling in flight (a redelivery joins it instead of running twice). */
  const inFlight = new Map<string, Promise<'SUCCESS' | 'FAIL'>>()

  const sign = (params: Record<string, string>) =>
    signContent(buildSignContent(params), options.privateKey, signType)

  async function register(): Promise<{ linkToken: string; zone?: string }> {
    const params: Record<string, string> = {
      app_id: options.appId,
      charset: 'UTF-8',
      timestamp: String(Date.now()),
      sign_type: signType,
      sdk_version: SDK_VERSION,
      nonce: randomUUID().replace(/-/g, ''),
    }
    params.sign = sign(params)
    const url = new URL('/websocket/register.do', options.serverUrl)
    url.search = new URLSearchParams(params).toString()
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    const text = await response.text()
    const linkToken = linkTokenOf(text, options.alipayPublicKey, signType)
    const zone = /(?:^|;|,)\s*zone=([^;,]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1]
    return zone ? { linkToken, zone } : { linkToken }
  }

  function scheduleRetry(error: string): void {
    if (!running || retryTimer) {
      return
    }
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20))
    const inMs = Math.round(Math.random() * ceiling)
    attempt++
    emit({ type: 'retry', inMs, error })
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      void connect()
    }, inMs)
  }

  async function connect(): Promise<void> {
    if (!running) {
      return
    }
    let registered: { linkToken: string; zone?: string }
    try {
      registered = await register()
    } catch (error) {
      scheduleRetry(error instanceof Error ? error.message : String(error))
      return
    }
    if (!running) {
      return
    }
    const params: Record<string, string> = {
      app_id: options.appId,
      charset: 'UTF-8',
      link_token: registered.linkToken,
      timestamp: String(Date.now()),
      sign_type: signType,
      sdk_version: SDK_VERSION,
    }
    params.sign = sign(params)
    const ws = new WebSocket(wsUrl(options.serverUrl, '/websocket', params), {
      handshakeTimeout: timeoutMs,
      headers: {
        'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
        ...(registered.zone ? { cookie: `zone=${registered.zone};` } : {}),
      },
    })
    socket = ws
    let lastPong = Date.now()
    ws.on('open', () => {
      isOpen = true
      attempt = 0
      lastPong = Date.now()
      emit({ type: 'connected' })
      pingTimer = setInterval(() => {
        if (Date.now() - lastPong > pingMs * 3) {
          ws.terminate()
          return
        }
        ws.ping()
      }, pingMs)
    })
    ws.on('pong', () => {
      lastPong = Date.now()
    })
    ws.on('message', (raw: WebSocket.RawData) => {
      const text = Buffer.isBuffer(raw)
        ? raw.toString('utf8')
        : Array.isArray(raw)
          ? Buffer.concat(raw).toString('utf8')
          : Buffer.from(raw).toString('utf8')
      void onFrame(ws, text)
    })
    ws.on('error', () => {
      // 'close' follows and schedules the retry
    })
    ws.on('close', (code: number, reason: Buffer) => {
      if (pingTimer) {
        clearInterval(pingTimer)
        pingTimer = undefined
      }
      const wasOpen = isOpen
      isOpen = false
      if (socket === ws) {
        socket = undefined
      }
      if (wasOpen) {
        emit({ type: 'disconnected', code, reason: reason.toString() })
      }
      scheduleRetry(wasOpen ? `closed ${code}` : `connect failed (${code})`)
    })
  }

  async function onFrame(ws: WebSocket, text: string): Promise<void> {
    const frame = parseFrame(text)
    if (!frame) {
      emit({ type: 'refused', reason: 'bad-frame' })
      return
    }
    const verified = verifyConsume(frame.body, options.alipayPublicKey)
    if (!verified.ok) {
      if (verified.reason !== 'not-consume') {
        emit({
          type: 'refused',
          reason: verified.reason,
          ...(verified.messageId !== undefined ? { messageId: verified.messageId } : {}),
        })
      }
      return
    }
    const message = verified.message
    let handling = inFlight.get(message.messageId)
    if (!handling) {
      handling = options
        .onMessage(message)
        .then(
          () => 'SUCCESS' as const,
          () => 'FAIL' as const,
        )
        .finally(() => inFlight.delete(message.messageId))
      inFlight.set(message.messageId, handling)
    }
    const status = await handling
    // Acked on the socket it came on; if that one is gone, Alipay redelivers and dedup answers.
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(consumeAckFrame(frame.headers, message.messageId, status))
      emit({ type: 'acked', messageId: message.messageId, status, msgApi: message.msgApi })
    }
  }

  return {
    get connected() {
      return isOpen
    },
    start() {
      if (running) {
        return
      }
      running = true
      attempt = 0
      void connect()
    },
    async stop() {
      running = false
      if (retryTimer) {
        clearTimeout(retryTimer)
        retryTimer = undefined
      }
      // Let handlers in flight finish and ack (bounded), then close.
      const pending = [...inFlight.values()]
      if (pending.length) {
        await Promise.race([
          Promise.allSettled(pending),
          new Promise((r) => setTimeout(r, timeoutMs).unref()),
        ])
      }
      const ws = socket
      if (ws && ws.readyState !== WebSocket.CLOSED) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            ws.terminate()
            resolve()
          }, 2000)
          ws.once('close', () => {
            clearTimeout(t)
            resolve()
          })
          ws.close(1000, 'client stop')
        })
      }
      if (pingTimer) {
        clearInterval(pingTimer)
        pingTimer = undefined
      }
    },
  }
}
