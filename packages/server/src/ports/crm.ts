import { resolveAllowed } from '../shared/address-policy.js'
import { AppError, ErrorKind } from '../shared/errors.js'

/**
 * The one place kaguan speaks HTTP to a merchant's CRM. Everything that protects the merchant's
 * token and kaguan's own network lives here, so no caller can forget it: the address policy checked
 * after DNS, a timeout, a cap on the answer's size, and never a redirect.
 */

/** One POST to a CRM path. `token` is the seed's header; absent only for the conformance probes. */
export interface CrmPost {
  baseUrl: string
  path: string
  body: string
  token: string | undefined
  timeoutMs: number
}

export interface CrmRawAnswer {
  status: number
  contentType: string
  text: string
  ms: number
}

export type CrmSend = (post: CrmPost) => Promise<CrmRawAnswer>

/** A contract answer is a few hundred bytes; a megabyte is a CRM (or an attacker) gone wrong. */
export const MAX_CRM_ANSWER_BYTES = 1024 * 1024

/** CRM failures, each with a fix; `retryable` tells the outbox whether trying again can help. */
export function crmError(
  code: string,
  message: string,
  retryable: boolean,
  details: Record<string, unknown> = {},
): AppError {
  return new AppError(retryable ? ErrorKind.Unavailable : ErrorKind.Invalid, code, message, details)
}

export const sendToCrm: CrmSend = async ({ baseUrl, path, body, token, timeoutMs }) => {
  const url = `${baseUrl}${path}`
  const started = Date.now()
  let response: Response
  try {
    // Checked right before the call, after DNS: a name may have been re-pointed at a metadata
    // address since it was saved.
    await resolveAllowed('crm.baseUrl', url)
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        ...(token === undefined ? {} : { token }),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      // Never follow: a redirect would carry the `token` header to whatever origin it names.
      redirect: 'manual',
    })
  } catch (error) {
    if (error instanceof AppError) {
      throw error
    }
    const timeout = (error as Error).name === 'TimeoutError'
    const cause = (error as { cause?: Error }).cause
    throw crmError(
      timeout ? 'CRM_TIMEOUT' : 'CRM_UNREACHABLE',
      timeout
        ? `the CRM did not answer ${path} within ${timeoutMs} ms`
        : `cannot reach the CRM at ${url}: ${cause ? cause.message : (error as Error).message}`,
      true,
      { path },
    )
  }
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location') ?? '(no Location header)'
    await response.body?.cancel()
    throw crmError(
      'CRM_REDIRECTED',
      `the CRM redirected ${path} to ${location} (HTTP ${response.status}): kaguan does not follow redirects; set the CRM base URL to the final address`,
      false,
      { path, status: response.status, location },
    )
  }
  const text = await readCapped(response, path, timeoutMs)
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text,
    ms: Date.now() - started,
  }
}

async function readCapped(response: Response, path: string, timeoutMs: number): Promise<string> {
  const tooLarge = () =>
    crmError(
      'CRM_ANSWER_TOO_LARGE',
      `the CRM's answer to ${path} is larger than ${MAX_CRM_ANSWER_BYTES} bytes; a contract answer is a small JSON value`,
      false,
      { path },
    )
  if (Number(response.headers.get('content-length') ?? 0) > MAX_CRM_ANSWER_BYTES) {
    await response.body?.cancel()
    throw tooLarge()
  }
  if (!response.body) {
    return ''
  }
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of response.body) {
      size += chunk.byteLength
      if (size > MAX_CRM_ANSWER_BYTES) {
        await response.body.cancel().catch(() => undefined)
        throw tooLarge()
      }
      chunks.push(chunk)
    }
  } catch (error) {
    if (error instanceof AppError) {
      throw error
    }
    // The timeout signal also covers a CRM that sends its headers and then trickles the body.
    const timeout = (error as Error).name === 'TimeoutError'
    throw crmError(
      timeout ? 'CRM_TIMEOUT' : 'CRM_UNREACHABLE',
      timeout
        ? `the CRM did not finish its answer to ${path} within ${timeoutMs} ms`
        : `the CRM's answer to ${path} broke off: ${(error as Error).message}`,
      true,
      { path },
    )
  }
  return Buffer.concat(chunks).toString('utf8')
}
