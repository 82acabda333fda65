import type { Generated, Insertable, Selectable, Updateable } from 'kysely'

export interface MerchantsTable {
  id: string
  name: string
  /** 1 for the merchant a single-merchant install uses without naming it. */
  is_default: number
  alipay_app_id: string | null
  /** Field-encrypted (context `merchants.alipay_private_key`). */
  alipay_private_key_enc: string | null
  alipay_public_key: string | null
  /** `production`, `sandbox` or a gateway URL. */
  alipay_gateway: string | null
  alipay_app_auth_token_enc: string | null
  /** `key` (支付宝公钥) or `cert` (公钥证书: the three certificates below). */
  alipay_sign_mode: Generated<'key' | 'cert'>
  /** `utf-8` or `GBK`: how requests are signed and sent. */
  alipay_charset: Generated<'utf-8' | 'GBK'>
  /** Field-encrypted PEM (contexts `merchants.alipay_app_cert`, `…_public_cert`, `…_root_cert`). */
  alipay_app_cert_enc: string | null
  alipay_public_cert_enc: string | null
  alipay_root_cert_enc: string | null
  /** Cert mode: the earliest notAfter of the three certificates (ISO UTC). */
  alipay_cert_expires_at: string | null
  public_base_url: string | null
  crm_mode: Generated<'none' | 'crm'>
  crm_base_url: string | null
  crm_token_enc: string | null
  crm_public_key: string | null
  member_no_prefix: Generated<string>
  /** `random` (unguessable) or `sequential` member numbers in no-CRM mode. */
  member_no_style: Generated<'random' | 'sequential'>
  /** 1: CRM calls must carry timestamp + nonce. */
  crm_replay_strict: Generated<number>
  /** How Alipay's messages arrive: the HTTP app gateway or the WebSocket long connection. */
  message_channel: Generated<'http' | 'websocket'>
  /** The worker holding the merchant's long connection, and until when (ISO UTC). */
  message_channel_lease_by: string | null
  message_channel_lease_until: string | null
  /** The next app private key (field-encrypted like the current one), until the operator activates it. */
  alipay_private_key_next_enc: string | null
  alipay_private_key_next_at: string | null
  /** The CRM public key being replaced: still accepted while now < crm_public_key_old_until. */
  crm_public_key_old: string | null
  crm_public_key_old_until: string | null
  /** The next CRM token (field-encrypted): sent first, the current one when the CRM refuses it. */
  crm_token_next_enc: string | null
  crm_token_next_at: string | null
  /** When the CRM first accepted the next token: retiring the old one is safe from then. */
  crm_token_next_seen_at: string | null
  created_at: string
  updated_at: string
}
export type MerchantRow = Selectable<MerchantsTable>
export type MerchantUpdate = Updateable<MerchantsTable>
export type NewMerchantRow = Insertable<MerchantsTable>
