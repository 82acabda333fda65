import { Type, type Static } from '@sinclair/typebox'

const Id = Type.String({ minLength: 1, maxLength: 64 })

/** Where the merchant's Alipay calls go: Alipay's production or sandbox gateway, or any URL (the emulator). */
export const AlipayGateway = Type.Union(
  [Type.Literal('production'), Type.Literal('sandbox'), Type.String({ pattern: '^https?://' })],
  {
    description:
      '`production`, `sandbox`, or a gateway URL such as the emulator http://127.0.0.1:8090/gateway.do',
  },
)

export const MerchantCreateBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
)
export type MerchantCreateBody = Static<typeof MerchantCreateBody>

export const AlipayAppBody = Type.Object(
  {
    appId: Type.String({ pattern: '^[0-9]{16}$', description: '应用 APPID (16 digits)' }),
    privateKey: Type.Optional(
      Type.String({
        minLength: 100,
        description: '应用私钥, PKCS#8 or PKCS#1, PEM or bare base64; kept when omitted',
      }),
    ),
    alipayPublicKey: Type.Optional(
      Type.String({
        minLength: 100,
        description: '支付宝公钥 (not the app public key); kept when omitted',
      }),
    ),
    gateway: AlipayGateway,
    appAuthToken: Type.Optional(
      Type.String({ description: 'ISV mode: the merchant app_auth_token; empty string clears it' }),
    ),
    signMode: Type.Optional(
      Type.Union([Type.Literal('key'), Type.Literal('cert')], {
        description:
          '接口加签方式: key (公钥, default) or cert (公钥证书: appCert, alipayPublicCert, alipayRootCert instead of alipayPublicKey); kept when omitted',
      }),
    ),
    appCert: Type.Optional(
      Type.String({
        minLength: 100,
        description: '应用公钥证书 (appCertPublicKey_<appid>.crt), PEM',
      }),
    ),
    alipayPublicCert: Type.Optional(
      Type.String({
        minLength: 100,
        description: '支付宝公钥证书 (alipayCertPublicKey_RSA2.crt), PEM',
      }),
    ),
    alipayRootCert: Type.Optional(
      Type.String({ minLength: 100, description: '支付宝根证书 (alipayRootCert.crt), PEM' }),
    ),
    charset: Type.Optional(
      Type.Union([Type.Literal('utf-8'), Type.Literal('GBK')], {
        description: "The app's request charset (utf-8 default; GBK for apps set up that way)",
      }),
    ),
    signType: Type.Optional(
      Type.String({
        description: 'RSA2 (the only one accepted); RSA (SHA1) is refused with advice to switch',
      }),
    ),
  },
  { additionalProperties: false },
)
export type AlipayAppBody = Static<typeof AlipayAppBody>

export const PublicUrlBody = Type.Object(
  {
    publicBaseUrl: Type.String({
      minLength: 1,
      description: 'The public https base URL of the mini role, e.g. https://card.example.com',
    }),
  },
  { additionalProperties: false },
)
export type PublicUrlBody = Static<typeof PublicUrlBody>

export const CrmBody = Type.Object(
  {
    mode: Type.Union([Type.Literal('none'), Type.Literal('crm')]),
    baseUrl: Type.Optional(
      Type.String({
        description: 'CRM base URL; kaguan POSTs to <baseUrl>/card/openCardInfo etc.',
      }),
    ),
    token: Type.Optional(
      Type.String({
        minLength: 8,
        description: 'Value kaguan sends in the `token` header; kept when omitted',
      }),
    ),
    publicKey: Type.Optional(
      Type.String({
        minLength: 100,
        description: "The CRM's RSA2 public key (SPKI PEM or bare base64); kept when omitted",
      }),
    ),
    strictReplay: Type.Optional(
      Type.Boolean({ description: 'Require timestamp + nonce on every signed call from the CRM' }),
    ),
    memberNoPrefix: Type.Optional(
      Type.String({
        pattern: '^[A-Z0-9]{0,8}$',
        description: 'No-CRM mode: prefix of the card numbers kaguan issues',
      }),
    ),
    memberNoStyle: Type.Optional(
      Type.Union([Type.Literal('random'), Type.Literal('sequential')], {
        description: 'No-CRM mode: unguessable or sequential card numbers',
      }),
    ),
  },
  { additionalProperties: false },
)
export type CrmBody = Static<typeof CrmBody>

export const MessageChannel = Type.Union([Type.Literal('http'), Type.Literal('websocket')], {
  description:
    "How Alipay's subscribed messages reach kaguan: http = the app gateway (应用网关), websocket = the long connection (长连接) a worker keeps",
})
export type MessageChannel = Static<typeof MessageChannel>

export const MessageChannelBody = Type.Object(
  { channel: MessageChannel },
  { additionalProperties: false },
)
export type MessageChannelBody = Static<typeof MessageChannelBody>

/** A merchant as the admin API shows it: keys only as fingerprints, never their text. */
export const CertificateView = Type.Object({
  sn: Type.String({
    description: 'SN as Alipay computes it (app_cert_sn / alipay_cert_sn / alipay_root_cert_sn)',
  }),
  subject: Type.String(),
  notBefore: Type.String(),
  notAfter: Type.String(),
})

export const MerchantView = Type.Object({
  id: Id,
  name: Type.String(),
  isDefault: Type.Boolean(),
  alipay: Type.Object({
    appId: Type.Union([Type.String(), Type.Null()]),
    gateway: Type.Union([Type.String(), Type.Null()]),
    gatewayUrl: Type.Union([Type.String(), Type.Null()]),
    privateKeyFingerprint: Type.Union([Type.String(), Type.Null()]),
    alipayPublicKeyFingerprint: Type.Union([Type.String(), Type.Null()]),
    appAuthTokenSet: Type.Boolean(),
    configured: Type.Boolean(),
    signMode: Type.Union([Type.Literal('key'), Type.Literal('cert')]),
    charset: Type.Union([Type.Literal('utf-8'), Type.Literal('GBK')]),
    /** Cert mode: the SNs and validity of the three certificates (never the certificates). */
    certificates: Type.Union([
      Type.Object({
        appCert: CertificateView,
        alipayCert: CertificateView,
        rootCert: CertificateView,
        /** The earliest expiry of the three, and whether it falls within the warning window. */
        expiresAt: Type.String(),
        expiresSoon: Type.Boolean(),
      }),
      Type.Null(),
    ]),
  }),
  publicBaseUrl: Type.Union([Type.String(), Type.Null()]),
  consoleAddresses: Type.Union([
    Type.Object(
      { appGateway: Type.String(), callback: Type.String() },
      { description: 'Paste these into the Alipay open platform (应用网关 / 授权回调地址)' },
    ),
    Type.Null(),
  ]),
  crm: Type.Object({
    mode: Type.Union([Type.Literal('none'), Type.Literal('crm')]),
    baseUrl: Type.Union([Type.String(), Type.Null()]),
    tokenSet: Type.Boolean(),
    publicKeyFingerprint: Type.Union([Type.String(), Type.Null()]),
    strictReplay: Type.Boolean(),
  }),
  memberNumbers: Type.Object({
    prefix: Type.String(),
    style: Type.Union([Type.Literal('random'), Type.Literal('sequential')]),
  }),
  messageChannel: MessageChannel,
  createdAt: Type.String(),
})
export type MerchantView = Static<typeof MerchantView>

export const CrmCheckRow = Type.Object({
  id: Type.String({ description: 'Stable id, e.g. open.idempotent' }),
  endpoint: Type.String({ description: 'The CRM path called, or - for local checks' }),
  what: Type.String({ description: 'Short label, zh-CN then English' }),
  status: Type.Union([
    Type.Literal('pass'),
    Type.Literal('fail'),
    Type.Literal('warn'),
    Type.Literal('skip'),
  ]),
  detail: Type.String({ description: 'What was observed (never the token)' }),
  fix: Type.Optional(Type.String({ description: 'What the CRM team should change' })),
  ms: Type.Optional(Type.Number()),
})
export type CrmCheckRow = Static<typeof CrmCheckRow>

/** The conformance report of "test the CRM": the same rows as `kaguan crm-check`. */
export const CrmTestResult = Type.Object({
  ok: Type.Boolean({ description: 'No row failed (warnings do not fail it)' }),
  url: Type.String(),
  probeUserId: Type.String({
    description: 'The made-up Alipay user the check registered, so the CRM team can delete it',
  }),
  passed: Type.Integer(),
  failed: Type.Integer(),
  warnings: Type.Integer(),
  skipped: Type.Integer(),
  checks: Type.Array(CrmCheckRow),
  signingHint: Type.Optional(Type.Array(Type.String())),
})
export type CrmTestResult = Static<typeof CrmTestResult>

export const ShopBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    address: Type.String({ maxLength: 256, default: '' }),
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    alipayShopId: Type.Optional(
      Type.String({
        maxLength: 64,
        description: "Alipay's shop id (门店ID), needed to list the shop on the card",
      }),
    ),
    phone: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
)
export type ShopBody = Static<typeof ShopBody>

export const ShopView = Type.Intersect([Type.Object({ id: Id, merchantId: Id }), ShopBody])
export type ShopView = Static<typeof ShopView>

export const ImageUploadBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    type: Type.Union([
      Type.Literal('jpg'),
      Type.Literal('jpeg'),
      Type.Literal('png'),
      Type.Literal('gif'),
      Type.Literal('bmp'),
    ]),
    contentBase64: Type.String({
      minLength: 4,
      maxLength: 4 * 1024 * 1024,
      description: 'The image file, base64 (≤ 3 MB)',
    }),
  },
  { additionalProperties: false },
)
export type ImageUploadBody = Static<typeof ImageUploadBody>

export const ImageView = Type.Object({
  id: Id,
  name: Type.String(),
  alipayImageId: Type.String(),
  url: Type.String(),
  createdAt: Type.String(),
})
export type ImageView = Static<typeof ImageView>

/**
 * Before publishing: the level the CRM answers a new member of this template, against the
 * template's level codes. `checked` is false when the merchant has no CRM (kaguan gives levels).
 */
export const CrmLevelCheck = Type.Object({
  checked: Type.Boolean(),
  ok: Type.Boolean(),
  /** The level the CRM answered; null when it answered none. */
  level: Type.Union([Type.String(), Type.Null()]),
  definedLevels: Type.Array(Type.String()),
  /** Why the check could not run (the CRM unreachable, refusing, …): the CRM test says more. */
  problem: Type.Optional(Type.String()),
})
export type CrmLevelCheck = Static<typeof CrmLevelCheck>
