/**
 * Behaviours the reference could not confirm (alipay-card-api.md §6, koubei-points-api.md §10). Each has
 * the default we believe most likely; tests and demos can switch them to probe the merchant's tolerance.
 */
export interface Behaviour {
  /** Card open/delete notification payload (§6.1): flat classic `notify_type` params or a message-service `biz_content`. */
  cardNotifyFormat: 'classic' | 'message'
  /** `notify_type` (classic) or `msg_method` (message) of the card-open notification. */
  cardOpenNotifyType: string
  /** Same for the card-delete notification. */
  cardDeleteNotifyType: string
  /** Whether a user removing the card in the wallet sends a delete notification (§6.1). */
  notifyOnUserRemove: boolean
  /** When a template has no notify_url, send card notifications to the app's gateway URL instead. */
  cardNotifyFallbackToGateway: boolean
  /** Card notification retry schedule in seconds (§6.7); Alipay's trade schedule by default. */
  cardNotifySchedule: readonly number[]
  /** Trade notification retry schedule in seconds (2m,10m,10m,1h,2h,6h,15h). */
  tradeNotifySchedule: readonly number[]
  /** Koubei coupon notification schedule in seconds (4m,10m,10m,1h,2h,6h,15h). */
  couponNotifySchedule: readonly number[]
  /** Merchant dynamic-code notification schedule in seconds (§6.2: unknown; a short one). */
  mdcodeNotifySchedule: readonly number[]
  /** The body a merchant must answer for a notification to count as delivered. */
  notifyAck: string
  /** Whether template.create/modify require write_off_type and template_style_info (§6.3). */
  strictTemplate: boolean
  /** Whether card.delete requires reason_code (§6.3). */
  requireDeleteReasonCode: boolean
  /** Whether mdcode_notify_conf.url must be https (the docs say so; local tests use http). */
  requireHttpsMdcodeUrl: boolean
  /** Allowed clock drift for `timestamp` in seconds; null = any well-formed timestamp (§6.5). */
  timestampDriftSeconds: number | null
  /** How a claim link's callback is matched against the app's registered callback URLs (ERR010). */
  callbackMatch: 'exact' | 'origin'
  /** Whether the open-card callback GET carries a `sign` (§6.6; not seen in the official example). */
  signCallback: boolean
  /** Whether oauth.token errors come under `error_response` (seen in SDK tests) or `<method>_response`. */
  oauthErrorNode: 'method' | 'error_response'
  /** How many gateway calls one access token allows; 0 = unlimited until it expires (the FAQ says "可使用两次"). */
  accessTokenMaxUses: number
  /** Lifetimes in seconds. */
  authCodeTtlSeconds: number
  accessTokenTtlSeconds: number
  prizeTokenTtlSeconds: number
  /** Third-party app authorisation (第三方应用授权): app_auth_code, app_auth_token and refresh token lifetimes. */
  appAuthCodeTtlSeconds: number
  appAuthTokenTtlSeconds: number
  appAuthRefreshTtlSeconds: number
  /** Whether the old app_auth_token keeps working after a refresh (unconfirmed; off = strict). */
  appAuthOldTokenSurvivesRefresh: boolean
  /** Whether trade notifications carry `store_id` (real 当面付 notifications do not; the emulator's wallet pay has no other channel). */
  tradeNotifyIncludesStoreId: boolean
  /** Long connection: how long a CONSUME frame waits for its ack before it is sent again (ms). */
  channelAckTimeoutMs: number
  /** Emit `\/` for `/` in gateway JSON, as Alipay does; the signature covers whatever is emitted. */
  escapeSlashes: boolean
}

/** The defaults; see README "Configurable behaviours". */
export const defaultBehaviour: Behaviour = {
  cardNotifyFormat: 'classic',
  cardOpenNotifyType: 'MEMBER_CARD_OPEN',
  cardDeleteNotifyType: 'MEMBER_CARD_DELETE',
  notifyOnUserRemove: true,
  cardNotifyFallbackToGateway: true,
  cardNotifySchedule: [120, 600, 600, 3600, 7200, 21600, 54000],
  tradeNotifySchedule: [120, 600, 600, 3600, 7200, 21600, 54000],
  couponNotifySchedule: [240, 600, 600, 3600, 7200, 21600, 54000],
  mdcodeNotifySchedule: [5, 30, 60],
  notifyAck: 'success',
  strictTemplate: false,
  requireDeleteReasonCode: false,
  requireHttpsMdcodeUrl: false,
  timestampDriftSeconds: null,
  callbackMatch: 'exact',
  signCallback: false,
  oauthErrorNode: 'method',
  accessTokenMaxUses: 0,
  authCodeTtlSeconds: 300,
  accessTokenTtlSeconds: 3600,
  prizeTokenTtlSeconds: 1800,
  appAuthCodeTtlSeconds: 86_400,
  appAuthTokenTtlSeconds: 365 * 86_400,
  appAuthRefreshTtlSeconds: 365 * 86_400,
  appAuthOldTokenSurvivesRefresh: false,
  tradeNotifyIncludesStoreId: true,
  escapeSlashes: true,
  channelAckTimeoutMs: 10_000,
}

/** Options of {@link startEmulator} / {@link buildEmulatorApp}. */
export interface EmulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string
  /** Default 8090; 0 = any free port. */
  port?: number
  /** Default ':memory:'; a path keeps state (and the Alipay key) across restarts. */
  dbFile?: string
  /** How wallet/claim links address the emulator; default http://host:port. */
  publicUrl?: string
  /** Compresses Alipay's notification retry schedule: delay = schedule × factor. Default 1/60 (2 min → 2 s). */
  notifyTimeFactor?: number
  /** PKCS#8 PEM of the emulator's "Alipay" key; generated (and persisted in dbFile) when absent. */
  alipayPrivateKey?: string
  /** Log requests (Fastify logger). */
  log?: boolean
  /** Overrides of the unconfirmed behaviours; also changeable at run time via POST /__emulator/behaviour. */
  behaviour?: Partial<Behaviour>
}
