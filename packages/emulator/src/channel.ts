import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type Database from 'better-sqlite3'
import type { KeyObject } from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'
import { parsePublicKey, requestSignContent, signText, verifyText } from './crypto.js'
import { hexToken } from './ids.js'

/**
 * The message long connection (消息服务 长连接, docs/alipay-message-channel.md), Alipay's side:
 * `GET /websocket/register.do` (signed by the app) answers a signed `link_token`; the WebSocket
 * upgrade at `/websocket` checks the app's signature and the token; messages queued for an app go
 * to its connections as signed CONSUME frames, are redelivered when no SUCCESS ack comes within the
 * ack timeout (or a FAIL comes), and wait while the app has no connection.
 */

export const CHANNEL_SCHEMA = `
create table if not exists channel_messages (msg_id text primary key, app_id text not null, msg_api text not null,
  content text not null, bad_signature integer not null default 0, status text not null, attempts integer not null default 0,
  sent_at integer, acked_at text, last_status text, created_at text not null);
`

/** A queued message as the driver API shows it. */
export interface ChannelMessageView {
  msgId: string
  appId: string
  msgApi: string
  content: unknown
  status: 'pending' | 'acked'
  attempts: number
  lastStatus: string | null
  ackedAt: string | null
}

interface Row {
  msg_id: string
  app_id: string
  msg_api: string
  content: string
  bad_signature: number
  status: 'pending' | 'acked'
  attempts: number
  sent_at: number | null
  acked_at: string | null
  last_status: string | null
}

const CRLF = '\r\n'

export class MessageChannelServer {
  readonly #db: Database.Database
  readonly #key: KeyObject
  readonly #appKey: (appId: string) => string | undefined
  readonly #ackTimeoutMs: () => number
  readonly #wss = new WebSocketServer({ noServer: true })
  readonly #tokens = new Map<string, { appId: string; expiresAt: number }>()
  readonly #sockets = new Map<string, Set<WebSocket>>()
  #timer: NodeJS.Timeout | undefined
  #closed = false
  /** Frames seen from apps (acks), for tests. */
  readonly acks: { msgId: string; status: string; streamId: string | undefined }[] = []

  constructor(options: {
    db: Database.Database
    key: KeyObject
    appPublicKey: (appId: string) => string | undefined
    ackTimeoutMs: () => number
  }) {
    this.#db = options.db
    this.#key = options.key
    this.#appKey = options.appPublicKey
    this.#ackTimeoutMs = options.ackTimeoutMs
    this.#db.exec(CHANNEL_SCHEMA)
  }

  #verifyApp(params: Record<string, string>): string | undefined {
    const appId = params.app_id
    const sign = params.sign
    const pem = appId ? this.#appKey(appId) : undefined
    if (!appId || !sign || !pem) {
      return undefined
    }
    const type = params.sign_type === 'RSA' ? 'RSA' : 'RSA2'
    return verifyText(requestSignContent(params), sign, parsePublicKey(pem), type)
      ? appId
      : undefined
  }

  /** Answers `register.do`: a signed `{"response":{…},"sign":…}`. */
  register(params: Record<string, string>): string {
    const appId = this.#verifyApp(params)
    const response = appId
      ? (() => {
          const linkToken = hexToken(16)
          this.#tokens.set(linkToken, { appId, expiresAt: Date.now() + 5 * 60_000 })
          return JSON.stringify({ code: '10000', msg: 'Success', link_token: linkToken })
        })()
      : JSON.stringify({
          code: '40002',
          msg: 'Invalid Arguments',
          sub_code: 'isv.invalid-signature',
          sub_msg: 'register: app unknown or signature invalid',
        })
    return `{"response":${response},"sign":"${signText(response, this.#key)}"}`
  }

  /** Handles an HTTP upgrade for `/websocket`; other paths are refused. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator')
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
    }
    if (url.pathname !== '/websocket') {
      refuse('404 Not Found')
      return
    }
    const params = Object.fromEntries(url.searchParams)
    const appId = this.#verifyApp(params)
    const token = params.link_token ? this.#tokens.get(params.link_token) : undefined
    if (!appId || !token || token.appId !== appId || token.expiresAt < Date.now()) {
      refuse('401 Unauthorized')
      return
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(appId, ws))
  }

  #attach(appId: string, ws: WebSocket): void {
    let set = this.#sockets.get(appId)
    if (!set) {
      set = new Set()
      this.#sockets.set(appId, set)
    }
    set.add(ws)
    ws.on('message', (raw: Buffer) => {
      if (!this.#closed) {
        this.#onFrame(raw.toString('utf8'))
      }
    })
    ws.on('close', () => {
      set.delete(ws)
      if (this.#closed) {
        return
      }
      // Unacked frames sent on this socket go out again to the next connection at once.
      this.#db
        .prepare(
          `update channel_messages set sent_at = null where app_id = ? and status = 'pending'`,
        )
        .run(appId)
      this.pump()
    })
    ws.on('error', () => undefined)
    this.pump()
  }

  #onFrame(text: string): void {
    const split = text.indexOf(CRLF + CRLF)
    if (split < 0) {
      return
    }
    const headers = Object.fromEntries(
      text
        .slice(0, split)
        .split(CRLF)
        .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]),
    ) as Record<string, string>
    let protocol: Record<string, unknown>
    try {
      protocol = (JSON.parse(text.slice(split + 4)) as { protocol: Record<string, unknown> })
        .protocol
    } catch {
      return
    }
    if (protocol['x-cmd'] !== 'CONSUME_ACK' || typeof protocol['x-msgId'] !== 'string') {
      return
    }
    const msgId = protocol['x-msgId']
    const status = String(protocol['x-status'])
    this.acks.push({ msgId, status, streamId: headers['stream-id'] })
    if (status === 'SUCCESS') {
      this.#db
        .prepare(
          `update channel_messages set status = 'acked', acked_at = ?, last_status = ? where msg_id = ? and status = 'pending'`,
        )
        .run(new Date().toISOString(), status, msgId)
    } else {
      this.#db
        .prepare(`update channel_messages set sent_at = null, last_status = ? where msg_id = ?`)
        .run(status, msgId)
      this.pump()
    }
  }

  /** Queues a message for an app; `badSignature` signs it with a key that is not Alipay's. */
  enqueue(
    appId: string,
    msgApi: string,
    content: unknown,
    options: { badSignature?: boolean; msgId?: string } = {},
  ): string {
    const msgId = options.msgId ?? hexToken(16)
    this.#db
      .prepare(
        `insert into channel_messages (msg_id, app_id, msg_api, content, bad_signature, status, created_at)
         values (?, ?, ?, ?, ?, 'pending', ?)`,
      )
      .run(
        msgId,
        appId,
        msgApi,
        JSON.stringify(content),
        options.badSignature ? 1 : 0,
        new Date().toISOString(),
      )
    this.pump()
    return msgId
  }

  /** Sends what is due: never sent, or sent without an ack for longer than the ack timeout. */
  pump(): void {
    if (this.#closed) {
      return
    }
    const due = Date.now() - this.#ackTimeoutMs()
    const rows = this.#db
      .prepare(
        `select * from channel_messages where status = 'pending' and (sent_at is null or sent_at <= ?) order by rowid limit 500`,
      )
      .all(due) as Row[]
    for (const row of rows) {
      const sockets = [...(this.#sockets.get(row.app_id) ?? [])].filter((s) => s.readyState === 1)
      const ws = sockets[row.attempts % Math.max(1, sockets.length)]
      if (!ws) {
        continue
      }
      const data = `{"header":{"appId":"${row.app_id}","msgApi":"${row.msg_api}"},"content":${row.content}}`
      const sign = row.bad_signature ? signText(`${data} `, this.#key) : signText(data, this.#key)
      const protocol = JSON.stringify({
        'x-type': 'message',
        'x-cmd': 'CONSUME',
        'x-msgId': row.msg_id,
        'x-timestamp': String(Date.now()),
        'x-version': '1.0',
        'x-charset': 'UTF-8',
        'x-signType': 'RSA2',
        'x-sign': sign,
      })
      const frame = `from-sys:openchannel${CRLF}from-sys-ip:127.0.0.1${CRLF}stream-id:s${hexToken(8)}${CRLF}${CRLF}{"protocol":${protocol},"data":${data}}`
      ws.send(frame)
      this.#db
        .prepare(
          `update channel_messages set attempts = attempts + 1, sent_at = ? where msg_id = ?`,
        )
        .run(Date.now(), row.msg_id)
    }
  }

  /** Starts the redelivery timer (every quarter of the ack timeout, at least 50 ms). */
  start(): void {
    const tick = () => {
      this.pump()
      this.#timer = setTimeout(tick, Math.max(50, this.#ackTimeoutMs() / 4))
      this.#timer.unref()
    }
    tick()
  }

  /** Cuts an app's connections (or all) abruptly, as a network failure would. */
  drop(appId?: string): number {
    let n = 0
    for (const [id, set] of this.#sockets) {
      if (appId === undefined || id === appId) {
        for (const ws of set) {
          ws.terminate()
          n++
        }
      }
    }
    return n
  }

  connections(): { appId: string; count: number }[] {
    return [...this.#sockets]
      .map(([appId, set]) => ({ appId, count: set.size }))
      .filter((c) => c.count > 0)
  }

  list(appId?: string): ChannelMessageView[] {
    const rows = (
      appId === undefined
        ? this.#db.prepare('select * from channel_messages order by rowid').all()
        : this.#db
            .prepare('select * from channel_messages where app_id = ? order by rowid')
            .all(appId)
    ) as Row[]
    return rows.map((r) => ({
      msgId: r.msg_id,
      appId: r.app_id,
      msgApi: r.msg_api,
      content: JSON.parse(r.content) as unknown,
      status: r.status,
      attempts: r.attempts,
      lastStatus: r.last_status,
      ackedAt: r.acked_at,
    }))
  }

  close(): void {
    this.#closed = true
    if (this.#timer) {
      clearTimeout(this.#timer)
    }
    this.drop()
    this.#wss.close()
  }
}
