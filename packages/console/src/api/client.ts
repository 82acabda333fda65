import type { ErrorBody } from '@kaguan/contracts'

/** One field the API named as wrong (`details.fields` of a 400 answer). */
export interface FieldProblem {
  field: string
  message: string
}

/** An error answer of the admin API, keeping its message and the fields it blames. */
export class ApiError extends Error {
  readonly status: number
  readonly errcode: string
  readonly fields: FieldProblem[]
  readonly details: Record<string, unknown>

  constructor(status: number, body: Partial<ErrorBody>) {
    super(body.message ?? `HTTP ${status}`)
    this.status = status
    this.errcode = body.errcode ?? 'HTTP_ERROR'
    this.details = body.details ?? {}
    const fields = this.details.fields
    this.fields = Array.isArray(fields)
      ? fields.filter(
          (f): f is FieldProblem =>
            typeof f === 'object' && f !== null && typeof (f as FieldProblem).field === 'string',
        )
      : []
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
let csrfToken: string | undefined
const unauthorizedListeners = new Set<() => void>()

/** The session's CSRF token (from login or `GET /api/auth/me`), sent on every unsafe request. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token
}

/** Called when any request answers 401: the session ended, the console shows the sign-in page. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

/** Calls the admin API with the session cookie; resolves with the JSON answer, rejects with {@link ApiError}. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
  }
  if (UNSAFE.has(method) && csrfToken) {
    headers['x-csrf-token'] = csrfToken
  }
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body !== undefined ? JSON.stringify(body) : undefined,
    })
  } catch (e) {
    throw new ApiError(0, { errcode: 'NETWORK', message: (e as Error).message })
  }
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/auth/login') {
      unauthorizedListeners.forEach((l) => l())
    }
    const errorBody =
      typeof parsed === 'object' && parsed !== null
        ? (parsed as Partial<ErrorBody>)
        : { message: text || res.statusText }
    throw new ApiError(res.status, errorBody)
  }
  return parsed as T
}

/** `?a=1&b=2` from the defined entries of `query` (empty string when none). */
export function queryString(query: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') {
      params.set(k, String(v))
    }
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

/** `GET path` as {@link api} does it. */
export function get(path: string): Promise<unknown> {
  return api('GET', path)
}
