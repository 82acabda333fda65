import {
  createAlipayClient,
  type AlipayCallObservation,
  type AlipayCertificates,
  type AlipayClient,
} from '@kaguan/alipay'

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
  /** Key mode; in cert mode the key of the Alipay certificate (kept for notifications). */
  alipayPublicKey: string
  gateway: string
  /** `utf-8` (default) or `GBK`. */
  charset?: 'utf-8' | 'GBK' | undefined
  /** Certificate mode (公钥证书): PEM, decrypted by the caller; never logged. */
  certificates?: AlipayCertificates | undefined
  /** Cert mode: store the rotated Alipay certificate the client downloaded and trusted. */
  onAlipayCertRotated?: ((rotated: { sn: string; alipayPublicCert: string }) => unknown) | undefined
}

/** Saved keys or gateway changed: the cached client signs for what was, not what is. */
function sameApp(a: AlipayApp, b: AlipayApp): boolean {
  return (
    a.appId === b.appId &&
    a.gateway === b.gateway &&
    a.privateKey === b.privateKey &&
    a.alipayPublicKey === b.alipayPublicKey &&
    (a.charset ?? 'utf-8') === (b.charset ?? 'utf-8') &&
    a.certificates?.appCert === b.certificates?.appCert &&
    a.certificates?.alipayPublicCert === b.certificates?.alipayPublicCert &&
    a.certificates?.alipayRootCert === b.certificates?.alipayRootCert
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
        gateway: app.gateway,
        charset: app.charset,
        ...(app.certificates
          ? { certificates: app.certificates, onAlipayCertRotated: app.onAlipayCertRotated }
          : { alipayPublicKey: app.alipayPublicKey }),
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
