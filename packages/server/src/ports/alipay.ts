import { createAlipayClient, type AlipayCallObservation, type AlipayClient } from '@kaguan/alipay'

/**
 * Alipay behind one port: the merchants module says which app and keys, the port makes (and keeps)
 * the signed client. Tests swap in a fake without an emulator; production builds each client once
 * set of keys, since parsing keys costs more than a card update.
 */
export interface AlipayApp {
  merchantId: string
  appId: string
  /** PEM, decrypted by the caller; never logged. */
  privateKey: string
  alipayPublicKey: string
  gateway: string
}

/** Saved keys or gateway changed: the cached client signs for what was, not what is. */
function sameApp(a: AlipayApp, b: AlipayApp): boolean {
  return (
    a.appId === b.appId &&
    a.gateway === b.gateway &&
    a.privateKey === b.privateKey &&
    a.alipayPublicKey === b.alipayPublicKey
  )
}

export interface AlipayPort {
  forMerchant(app: AlipayApp): AlipayClient
}

/**
 * `observe` is told of every gateway call of every merchant's client (metrics); a `makeClient` of
 * one's own decides for itself.
 */
export function createAlipayPort(
  makeClient?: (app: AlipayApp) => AlipayClient,
  observe?: (call: AlipayCallObservation) => void,
): AlipayPort {
  const make =
    makeClient ??
    ((app: AlipayApp) =>
      createAlipayClient({
        appId: app.appId,
        privateKey: app.privateKey,
        alipayPublicKey: app.alipayPublicKey,
        gateway: app.gateway,
        ...(observe ? { observe } : {}),
      }))
  const clients = new Map<string, { app: AlipayApp; client: AlipayClient }>()
  return {
    forMerchant(app) {
      const cached = clients.get(app.merchantId)
      if (cached && sameApp(cached.app, app)) {
        return cached.client
      }
      const client = make(app)
      clients.set(app.merchantId, { app, client })
      return client
    },
  }
}
