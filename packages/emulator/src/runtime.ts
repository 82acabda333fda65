import type { KeyObject } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { MessageChannelServer } from './channel.js'
import type { Faults } from './faults.js'
import type { Notifier } from './notifier.js'
import type { Behaviour } from './options.js'

/** An app registered as in the open-platform console. */
export interface AppRecord {
  appId: string
  /** As given (PEM or bare base64). */
  appPublicKey: string
  /** 应用网关: where message-style notifications go. */
  gatewayUrl?: string
  /** 授权回调地址: claim-link callbacks must match one (ERR010 otherwise). */
  callbackUrls: string[]
  /** Products bound to the app, e.g. member_card, koubei. */
  products: string[]
  /** How message-service messages (card open/delete in `message` format) reach the app: the gateway (default) or the long connection. */
  messageChannel?: 'http' | 'websocket'
  /** Where wallet trades are notified; the gateway URL when absent. */
  tradeNotifyUrl?: string
  /** Certificate mode (公钥证书): the SN of the app certificate the emulator issued. */
  certMode?: { appCertSn: string }
  /** Where the 3.1 open-card SPI is called; the gateway URL when absent. */
  spiUrl?: string
  /** OpenID stage: which user ids the app gets (default `both`); see identity.ts. */
  userIdMode?: 'user_id' | 'both' | 'open_id'
  /** The app group whose apps share a user's union_id; none: no union_id is sent. */
  unionGroup?: string
}

/** A simulated Alipay user. */
export interface UserRecord {
  userId: string
  name: string
  mobile: string
  gender: string
  certNo: string
  /** Where the user stands, for sorting shops by distance. */
  lat: number
  lng: number
}

/** A shop known to the emulator (for the card detail's applicable shops). */
export interface ShopRecord {
  shopId: string
  name: string
  address: string
  lat: number
  lng: number
}

/** Everything the gateway methods, the driver API and the wallet share. */
export interface Runtime {
  db: Database.Database
  behaviour: Behaviour
  publicUrl: string
  alipayKey: KeyObject
  alipayPublicKey: string
  notifier: Notifier
  /** The message long connection (WebSocket) and its queue. */
  channel: MessageChannelServer
  faults: Faults
}
