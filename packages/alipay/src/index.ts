// @kaguan/alipay: the only package that speaks Alipay's protocol (see README.md).
export {
  ALIPAY_GATEWAY_PRODUCTION,
  ALIPAY_GATEWAY_SANDBOX,
  DEFAULT_TIMEOUT_MS,
  createAlipayClient,
  type AlipayAppConfig,
  type AlipayCallObservation,
  type AlipayClient,
  type CallOptions,
  type UserCallOptions,
} from './client.js'
export {
  certInfo,
  certPublicKeyPem,
  certSn,
  chainsToRoot,
  describeCertificates,
  parseCertificate,
  parseCertificates,
  rootCertInfo,
  rootCertSn,
  type AlipayCertificates,
  type CertificateInfo,
} from './certs.js'
export { ALIPAY_CERT_DOWNLOAD_METHOD, responseCertSn, trustDownloadedCert } from './sdk.js'
export {
  AlipayError,
  AlipayErrorCode,
  GatewayCode,
  isRetryable,
  type AlipayErrorInit,
} from './errors.js'
export {
  buildSignContent,
  byteOrder,
  normalizePrivateKey,
  normalizePublicKey,
  publicKeyFingerprint,
  publicKeyOf,
  publicKeyToBase64,
  signContent,
  verifyContent,
  type SignContentOptions,
  type SignType,
} from './keys.js'
export {
  MDCODE_ALIPAY_PUBLIC_KEY,
  decodeApplyCardUrl,
  openCardResultOf,
  parseActivateFormInfos,
  parseFormBody,
  verifyCouponNotify,
  verifyGatewayMessage,
  verifyMdcodeNotify,
  verifyNotify,
  type AlipayNotify,
  type CouponReceivedNotify,
  type GatewayMessage,
  type GatewayServiceMessage,
  type MdcodeNotify,
  type NotifyInput,
  type NotifyRejectReason,
  type NotifyVerification,
  type NotifyVerifyOptions,
  type OpenCardResult,
} from './notify.js'
export { appAuthorizeUrl, webAuthorizeUrl } from './oauth.js'
export { extractSignedNode, responseKeyOf } from './response-sign.js'
export type * from './types.js'
export {
  ALIPAY_CHANNEL_PRODUCTION,
  ALIPAY_CHANNEL_SANDBOX,
  channelUrlOf,
  consumeAckFrame,
  createMessageChannel,
  formatFrame,
  linkTokenOf,
  parseFrame,
  topLevelMembers,
  verifyConsume,
  type ChannelEvent,
  type ChannelFrame,
  type ChannelMessage,
  type ConsumeVerification,
  type MessageChannel,
  type MessageChannelOptions,
} from './message-channel.js'
export {
  OPENCARD_SPI_METHOD,
  signOpenCardSpiAnswer,
  verifyOpenCardSpi,
  verifyOpenCardSpiAnswer,
  type OpenCardSpiAnswer,
  type OpenCardSpiCall,
  type OpenCardSpiCard,
  type OpenCardSpiRequest,
} from './spi.js'
