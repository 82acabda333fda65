import type { AppDeps } from '../../deps.js'
import type { AlipayApp } from '../../ports/alipay.js'
import { recordAudit } from '../audit/index.js'
import * as repo from './merchants.repository.js'
import {
  gatewayUrlOf,
  getMerchant,
  PRIVATE_KEY_CONTEXT,
  requireRow,
  type Actor,
  type MerchantDeps,
  type MerchantView,
} from './merchants.service.js'

export type MessageChannelKind = 'http' | 'websocket'

/**
 * Chooses how Alipay's subscribed messages reach kaguan for a merchant (audited). The choice must
 * match the app's subscription in the Alipay open platform (消息服务: HTTP or 长连接).
 */
export async function updateMessageChannel(
  deps: MerchantDeps & Pick<AppDeps, 'db'>,
  id: string,
  channel: MessageChannelKind,
  actor: Actor,
): Promise<MerchantView> {
  const { db } = deps
  const row = await requireRow(deps, id)
  if (row.message_channel !== channel) {
    await repo.update(db, id, { message_channel: channel, updated_at: deps.clock.nowIso() })
    await recordAudit(deps, {
      merchantId: id,
      ...actor,
      action: 'merchant.message_channel.update',
      target: { type: 'merchant', id },
      before: { messageChannel: row.message_channel },
      after: { messageChannel: channel },
    })
  }
  return getMerchant(deps, id)
}

/** The Alipay apps (keys decrypted; never logged) of merchants on the long connection, configured ones only. */
export async function longConnectionApps(
  deps: Pick<AppDeps, 'db' | 'cipher'>,
): Promise<AlipayApp[]> {
  const rows = await repo.listByMessageChannel(deps.db, 'websocket')
  const apps: AlipayApp[] = []
  for (const row of rows) {
    if (
      row.alipay_app_id &&
      row.alipay_private_key_enc &&
      row.alipay_public_key &&
      row.alipay_gateway
    ) {
      apps.push({
        merchantId: row.id,
        appId: row.alipay_app_id,
        privateKey: deps.cipher.decrypt(row.alipay_private_key_enc, PRIVATE_KEY_CONTEXT),
        alipayPublicKey: row.alipay_public_key,
        gateway: gatewayUrlOf(row.alipay_gateway),
      })
    }
  }
  return apps
}

/** Takes or renews a merchant's long-connection lease for `holder`; false: another worker holds it. */
export function takeChannelLease(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  merchantId: string,
  holder: string,
  ttlMs: number,
): Promise<boolean> {
  const now = deps.clock.now().getTime()
  return repo.takeChannelLease(deps.db, merchantId, {
    by: holder,
    now: new Date(now).toISOString(),
    until: new Date(now + ttlMs).toISOString(),
  })
}

export function releaseChannelLease(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  holder: string,
): Promise<void> {
  return repo.releaseChannelLease(deps.db, merchantId, holder)
}
