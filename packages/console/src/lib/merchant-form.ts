/** How the gateway is chosen on the form: one of Alipay's two, or a URL (the emulator). */
export type GatewayKind = 'production' | 'sandbox' | 'url'

export function gatewayToForm(gateway: string | null): {
  gatewayKind: GatewayKind
  gatewayUrl?: string
} {
  if (gateway === 'sandbox' || gateway === 'production') {
    return { gatewayKind: gateway }
  }
  if (gateway) {
    return { gatewayKind: 'url', gatewayUrl: gateway }
  }
  return { gatewayKind: 'production' }
}

export function gatewayFromForm(kind: GatewayKind, url: string | undefined): string {
  return kind === 'url' ? (url ?? '').trim() : kind
}
