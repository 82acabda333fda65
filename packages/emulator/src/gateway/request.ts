import type { FastifyRequest } from 'fastify'
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

/** Parses an urlencoded body with WHATWG rules (`+` is a space), as browsers and urllib encode it. */
export function parseUrlencoded(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of new URLSearchParams(text)) {
    if (!(key in out)) {
      out[key] = value
    }
  }
  return out
}
