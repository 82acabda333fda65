import type { Migration } from 'kysely'
import * as foundation from './2026_11_21_0000_foundation.js'
import * as adminSessions from './2026_11_21_0100_admin_sessions.js'
import * as merchantSetup from './2026_11_21_0200_merchant_setup.js'
import * as membersCards from './2026_11_21_0300_members_cards.js'
import * as outboxOrderKey from './2026_12_02_0100_outbox_order_key.js'
import * as templatePublishLease from './2026_12_02_0110_template_publish_lease.js'
import * as stamps from './2026_12_02_0200_stamps.js'
import * as stampReminders from './2026_12_06_0100_stamp_reminders.js'
import * as stampsKoubeiMirror from './2026_12_06_0200_stamps_koubei_mirror.js'
import * as pointReminders from './2026_12_06_0300_point_reminders.js'
import * as deliveryPace from './2026_12_07_0200_delivery_pace.js'
import * as opencardSpiOpenid from './2026_12_07_0300_opencard_spi_openid.js'
import * as messageChannel from './2026_12_07_0401_message_channel.js'
import * as alipayCertMode from './2026_12_07_0500_alipay_cert_mode.js'
import * as adminTenancy from './2026_12_07_0600_admin_tenancy.js'
import * as merchantAppAuth from './2026_12_07_0700_merchant_app_auth.js'
import * as keyRotation from './2026_12_07_0800_key_rotation.js'
import * as claimLimitsErasure from './2026_12_07_0900_claim_limits_erasure.js'
import * as cardUserIndex from './2026_12_07_1000_card_user_index.js'

/**
 * Every migration, in order. Listed here rather than read from the folder so the same list works
 * from sources (tsx, vitest) and from the built files.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_21_0000_foundation': foundation,
  '2026_11_21_0100_admin_sessions': adminSessions,
  '2026_11_21_0200_merchant_setup': merchantSetup,
  '2026_11_21_0300_members_cards': membersCards,
  '2026_12_02_0100_outbox_order_key': outboxOrderKey,
  '2026_12_02_0110_template_publish_lease': templatePublishLease,
  '2026_12_02_0200_stamps': stamps,
  '2026_12_06_0100_stamp_reminders': stampReminders,
  '2026_12_06_0200_stamps_koubei_mirror': stampsKoubeiMirror,
  '2026_12_06_0300_point_reminders': pointReminders,
  '2026_12_07_0200_delivery_pace': deliveryPace,
  '2026_12_07_0300_opencard_spi_openid': opencardSpiOpenid,
  '2026_12_07_0401_message_channel': messageChannel,
  '2026_12_07_0500_alipay_cert_mode': alipayCertMode,
  '2026_12_07_0600_admin_tenancy': adminTenancy,
  '2026_12_07_0700_merchant_app_auth': merchantAppAuth,
  '2026_12_07_0800_key_rotation': keyRotation,
  '2026_12_07_0900_claim_limits_erasure': claimLimitsErasure,
  '2026_12_07_1000_card_user_index': cardUserIndex,
}
