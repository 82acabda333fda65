import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { signContent } from '../../src/keys.js'
import { alipayKeys } from './keys.js'

/** One request as the fake gateway saw it. */
export interface SeenRequest {
  query: Record<string, string>
  /** Form fields of a urlencoded body (empty for multipart). */
  form: Record<string, string>
  contentType: string
  rawBody: Buffer
  headers: IncomingMessage['headers']
}

/** What the fake answers: a full body, or a response node it signs (or mis-signs) itself. */
export interface FakeAnswer {
  status?: number
  headers?: Record<string, string>
  /** Sent verbatim when given. */
  body?: string
  /** The response node; put under `<method>_response` unless `nodeKey` says otherwise. */
  node?: Record<string, unknown>
  nodeKey?: string
  /** `valid` (default), `tampered` (valid sign, node changed after signing), `none`, `wrong-key`. */
  sign?: 'valid' | 'tampered' | 'none' | 'wrong-key'
  /** Escape `/` as `\/` in the node, as Alipay's JSON does. */
  escapeSlashes?: boolean
  delayMs?: number
}

/** A real node:http server on 127.0.0.1:0 that answers like the v2 gateway, signing with node:crypto. */
export interface FakeGateway {
  url: string
  seen: SeenRequest[]
  answer: (req: SeenRequest) => FakeAnswer
  close(): Promise<void>
}

export async function startFakeGateway(otherKey?: string): Promise<FakeGateway> {
  const fake: FakeGateway = {
    url: '',
    seen: [],
    answer: (req) => ({ node: { code: '10000', msg: 'Success', method: req.query.method } }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks)
      const contentType = req.headers['content-type'] ?? ''
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const seen: SeenRequest = {
        query: Object.fromEntries(url.searchParams),
        form: contentType.startsWith('application/x-www-form-urlencoded')
          ? Object.fromEntries(new URLSearchParams(rawBody.toString('utf8')))
          : {},
        contentType,
        rawBody,
        headers: req.headers,
      }
      fake.seen.push(seen)
      const answer = fake.answer(seen)
      const send = () => {
        if (res.destroyed) {
          return
        }
        res.writeHead(answer.status ?? 200, {
          'content-type': 'application/json;charset=utf-8',
          ...answer.headers,
        })
        res.end(answer.body ?? render(seen.query.method ?? '', answer, otherKey))
      }
      if (answer.delayMs) {
        setTimeout(send, answer.delayMs)
      } else {
        send()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gateway.do`
  return fake
}

function render(method: string, answer: FakeAnswer, otherKey?: string): string {
  const key = answer.nodeKey ?? `${method.replaceAll('.', '_')}_response`
  let node = JSON.stringify(answer.node ?? {})
  if (answer.escapeSlashes) {
    node = node.replaceAll('/', '\\/')
  }
  const mode = answer.sign ?? 'valid'
  if (mode === 'none') {
    return `{"${key}":${node}}`
  }
  const signer = mode === 'wrong-key' ? (otherKey ?? '') : alipayKeys.privateKey
  const sign = signContent(node, signer)
  // Tampering after signing: what a rewriting proxy would do.
  if (mode === 'tampered') {
    node = node.replace('"10000"', '"10000","point":"99999"')
  }
  return `{"${key}":${node},"sign":"${sign}"}`
}
