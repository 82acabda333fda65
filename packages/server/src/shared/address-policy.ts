import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { AppError, ErrorKind } from './errors.js'

/**
 * Which addresses kaguan may call on a merchant's behalf (CRM, Alipay gateway). A merchant URL is
 * operator input, so it must not reach the cloud metadata service or other link-local endpoints
 * (SSRF). Private and loopback addresses stay allowed: CRMs live on intranets and tests use
 * 127.0.0.1.
 */

const FORBIDDEN_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data'])

function ipv4Reason(ip: string): string | undefined {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number)
  if (a === 0) {
    return 'an unspecified address (0.0.0.0/8)'
  }
  if (a === 169 && b === 254) {
    return 'a link-local address (169.254.0.0/16, cloud metadata)'
  }
  if (a >= 224 && a <= 239) {
    return 'a multicast address'
  }
  if (a === 255 && b === 255 && c === 255 && d === 255) {
    return 'the broadcast address'
  }
  if (a >= 240) {
    return 'a reserved address (240.0.0.0/4)'
  }
  return undefined
}

/** Expands an IPv6 address to its eight 16-bit groups (an embedded IPv4 tail becomes two). */
function ipv6Groups(ip: string): number[] {
  let h = ip.toLowerCase().split('%')[0] ?? ''
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(h)
  if (v4?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = v4[1].split('.').map(Number)
    h = h.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = h.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0')
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16))
}

function ipv6Reason(ip: string): string | undefined {
  const g = ipv6Groups(ip)
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g
  if (g.every((x) => x === 0)) {
    return 'the unspecified address (::)'
  }
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses reach the IPv4 host.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || g5 === 0)) {
    if (g5 === 0 && g6 === 0) {
      return g7 === 1 ? undefined : 'an unspecified address'
    }
    return ipv4Reason(`${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`)
  }
  if ((g0 & 0xffc0) === 0xfe80) {
    return 'a link-local address (fe80::/10)'
  }
  if ((g0 & 0xff00) === 0xff00) {
    return 'a multicast address (ff00::/8)'
  }
  // AWS's IPv6 instance metadata endpoint, fd00:ec2::254 (inside the otherwise allowed fc00::/7).
  if (
    g0 === 0xfd00 &&
    g1 === 0x0ec2 &&
    g2 === 0 &&
    g3 === 0 &&
    g4 === 0 &&
    g5 === 0 &&
    g6 === 0 &&
    g7 === 0x254
  ) {
    return 'the cloud metadata address'
  }
  return undefined
}

/** Why kaguan must not call this host (an IP literal or a name), or undefined when it may. */
export function forbiddenAddressReason(host: string): string | undefined {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
  const version = isIP(h)
  if (version === 4) {
    return ipv4Reason(h)
  }
  if (version === 6) {
    return ipv6Reason(h)
  }
  if (FORBIDDEN_NAMES.has(h)) {
    return 'a cloud metadata name'
  }
  return undefined
}

/** Save-time check of a URL's host (no DNS: the name may only resolve on the server's network). */
export function checkUrlAddress(field: string, url: string): void {
  const host = new URL(url).hostname
  const reason = forbiddenAddressReason(host)
  if (reason) {
    throw new AppError(
      ErrorKind.Invalid,
      'ADDRESS_FORBIDDEN',
      `${field}: ${host} is ${reason}; kaguan does not call such addresses`,
      { fields: [{ field, message: `${host} is ${reason}` }] },
    )
  }
}

/**
 * Call-time check after DNS: refuses when any address the name resolves to is forbidden, so a
 * name pointed at 169.254.169.254 is caught too. Answers the first checked address.
 */
export async function resolveAllowed(field: string, url: string): Promise<string> {
  checkUrlAddress(field, url)
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  if (isIP(host)) {
    return host
  }
  const addresses = await lookup(host, { all: true })
  for (const { address } of addresses) {
    const reason = forbiddenAddressReason(address)
    if (reason) {
      throw new AppError(
        ErrorKind.Invalid,
        'ADDRESS_FORBIDDEN',
        `${field}: ${host} resolves to ${address}, ${reason}; kaguan does not call such addresses`,
        { field, host, address },
      )
    }
  }
  return addresses[0]?.address ?? host
}
