import { isIP } from 'node:net'

/**
 * Whether a host can be reached from the internet. Alipay's servers call the merchant's public URL
 * (callback, notifications, dynamic codes), so localhost, private and intranet addresses cannot work
 * with Alipay's own gateways (the seed's FAQ). Names are judged by form only: no DNS lookup.
 */
export function internalHostReason(host: string): string | undefined {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (h === 'localhost' || h.endsWith('.localhost')) {
    return 'localhost'
  }
  const version = isIP(h)
  if (version === 4) {
    const [a = 0, b = 0] = h.split('.').map(Number)
    if (a === 127) {
      return 'a loopback address'
    }
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) {
      return 'a private (intranet) address'
    }
    if (a === 169 && b === 254) {
      return 'a link-local address'
    }
    if (a === 100 && b >= 64 && b <= 127) {
      return 'a carrier-grade NAT address'
    }
    if (a === 0) {
      return 'an unroutable address'
    }
    return undefined
  }
  if (version === 6) {
    if (h === '::1' || h === '::') {
      return 'a loopback address'
    }
    if (/^f[cd]/.test(h)) {
      return 'a private (intranet) address'
    }
    if (/^fe[89ab]/.test(h)) {
      return 'a link-local address'
    }
    return undefined
  }
  if (!h.includes('.')) {
    return 'an intranet name (no domain)'
  }
  if (/\.(local|internal|intranet|lan|corp|home|localdomain)$/.test(h)) {
    return 'an intranet name'
  }
  return undefined
}
