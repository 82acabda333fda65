import type { FastifyRequest } from 'fastify'
import iconv from 'iconv-lite'
import { parseMultipart } from './multipart.js'
import type { MultipartPart } from './multipart.js'

/** A gateway request reduced to what the protocol cares about. */
export interface GatewayRequest {
  /** Query and body text parameters merged (§1.3 emulator rule: any parameter may be in either place). */
  params: Record<string, string>
  /** File parts (never signed). */
  files: Map<string, MultipartPart>
}

/**
 * Merges URL query, urlencoded body and multipart text fields. Query values win on a clash only when
 * the body lacks the key; real clients never send the same key twice.
 */
export function readGatewayRequest(request: FastifyRequest): GatewayRequest {
  const params: Record<string, string> = {}
  const files = new Map<string, MultipartPart>()
  const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : ''
  const rawBody = formTextOf(request.body)
  // A GBK app percent-encodes GBK bytes (charset is ASCII, so it can be read before decoding).
  const charset = /(?:^|&)charset=([A-Za-z0-9-]+)/.exec(`${rawQuery}&${rawBody ?? ''}`)?.[1]
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8' && iconv.encodingExists(charset)) {
    for (const [key, value] of decodeForm(rawQuery, charset)) {
      if (!(key in params)) {
        params[key] = value
      }
    }
    for (const [key, value] of decodeForm(rawBody ?? '', charset)) {
      if (!(key in params)) {
        params[key] = value
      }
    }
    return { params, files }
  }
  const query = new URL(request.url, 'http://emulator.invalid').searchParams
  for (const [key, value] of query) {
    if (!(key in params)) {
      params[key] = value
    }
  }
  const body = request.body
  const contentType = String(request.headers['content-type'] ?? '')
  if (Buffer.isBuffer(body) && contentType.toLowerCase().startsWith('multipart/form-data')) {
    for (const part of parseMultipart(body, contentType)) {
      if (part.filename !== undefined) {
        files.set(part.name, part)
      } else if (!(part.name in params)) {
        params[part.name] = part.data.toString('utf8')
      }
    }
  } else if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (typeof value === 'string' && !(key in params)) {
        params[key] = value
      }
    }
  }
  return { params, files }
}

const RAW_FORM = Symbol('raw urlencoded text')

/** Parses an urlencoded body with WHATWG rules (`+` is a space), as browsers and urllib encode it. */
export function parseUrlencoded(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of new URLSearchParams(text)) {
    if (!(key in out)) {
      out[key] = value
    }
  }
  // Kept for the gateway: a GBK form must be decoded again from its bytes.
  Object.defineProperty(out, RAW_FORM, { value: text, enumerable: false })
  return out
}

function formTextOf(body: unknown): string | undefined {
  if (body !== null && typeof body === 'object' && RAW_FORM in body) {
    return (body as Record<symbol, string>)[RAW_FORM]
  }
  return undefined
}

/** Decodes `k=v&…` whose percent-escapes are bytes in `charset` (`+` is a space). */
export function decodeForm(text: string, charset: string): [string, string][] {
  const out: [string, string][] = []
  for (const pair of text.split('&')) {
    if (pair === '') {
      continue
    }
    const at = pair.indexOf('=')
    const [k, v] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]
    out.push([decodePart(k, charset), decodePart(v, charset)])
  }
  return out
}

function decodePart(part: string, charset: string): string {
  const bytes: number[] = []
  const text = part.replaceAll('+', ' ')
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(ch, 'latin1'))
    }
  }
  return iconv.decode(Buffer.from(bytes), charset)
}
