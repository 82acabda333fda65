import type { AppDeps } from '../../deps.js'
import { chinaDate, chinaDayStart } from '../../shared/china-time.js'
import { recordAudit } from '../audit/index.js'
import type { Actor } from '../merchants/index.js'
import type { CardTemplate } from '../templates/index.js'
import * as repo from './claim-limits.repository.js'
import type { ClaimBlockRow, ClaimRow } from './cards.table.js'
import { CardErrors, type ClaimRefusalCode } from './cards.errors.js'

/** Where a claim came from, as the callback's request shows it. */
export interface ClaimOrigin {
  ip?: string
  /** kaguan's device cookie on the user's phone (set on the first claim page it showed). */
  deviceId?: string
}

/** The codes a refused claim is recorded with, in the order the dashboard lists them. */
export const CLAIM_REFUSAL_CODES: readonly ClaimRefusalCode[] = [
  'CLAIM_BLOCKED',
  'CLAIM_LIMIT_USER',
  'CLAIM_LIMIT_DEVICE',
  'CLAIM_LIMIT_IP',
  'CLAIM_LIMIT_DAY',
]

const HASH_CONTEXT = { ip: 'claims.client_ip', device: 'claims.device' } as const

/** The origin as stored on the claim: keyed hashes, as only equality is ever asked of them. */
export function originHashes(
  deps: Pick<AppDeps, 'cipher'>,
  origin: ClaimOrigin | undefined,
): Pick<ClaimRow, 'client_ip_hash' | 'device_hash'> {
  return {
    client_ip_hash: origin?.ip ? deps.cipher.lookupHash(origin.ip, HASH_CONTEXT.ip) : null,
    device_hash: origin?.deviceId
      ? deps.cipher.lookupHash(origin.deviceId, HASH_CONTEXT.device)
      : null,
  }
}

/**
 * Refuses the claim (throws its CLAIM_BLOCKED / CLAIM_LIMIT_* error) when the user is blocked or
 * one of the template's claim limits is reached. Checked after "already holds the card" (a holder
 * always gets their card back) and before the CRM or Alipay is asked, so a refused claim grants no
 * gift and opens nothing.
 *
 * The window limits count claims that opened a card or are still in flight, started before this
 * one: of two racing claims the earlier wins. (On PostgreSQL two claims committing within the
 * same moment can both see themselves first; a limit can then be passed by one.)
 */
export async function checkClaimAllowed(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  input: { template: CardTemplate; alipayUserId: string; claim: ClaimRow },
): Promise<void> {
  const { db, clock } = deps
  const { template, alipayUserId, claim } = input
  const merchantId = claim.merchant_id
  if (await repo.findBlock(db, merchantId, alipayUserId)) {
    throw CardErrors.claimRefused('CLAIM_BLOCKED', `Alipay user ${alipayUserId} is blocked`)
  }
  const limits = template.spec.claimLimits
  if (!limits) {
    return
  }
  if (limits.perUser !== undefined) {
    const held = await repo.countCardsEverHeld(db, merchantId, template.id, alipayUserId)
    if (held >= limits.perUser) {
      throw CardErrors.claimRefused(
        'CLAIM_LIMIT_USER',
        `Alipay user ${alipayUserId} has opened ${held} card(s) of template ${template.id} (limit ${limits.perUser})`,
      )
    }
  }
  const base = {
    merchantId,
    alipayTemplateId: claim.alipay_template_id,
    beforeId: claim.id,
  }
  const inWindow = (
    minutes: number,
    key: Pick<repo.OpeningClaimsQuery, 'deviceHash' | 'clientIpHash'>,
  ) =>
    repo.countOpeningClaims(db, {
      ...base,
      ...key,
      since: new Date(clock.now().getTime() - minutes * 60_000).toISOString(),
    })
  if (limits.perDevice && claim.device_hash) {
    const { max, windowMinutes } = limits.perDevice
    const n = await inWindow(windowMinutes, { deviceHash: claim.device_hash })
    if (n >= max) {
      throw CardErrors.claimRefused(
        'CLAIM_LIMIT_DEVICE',
        `${n} card(s) of template ${template.id} opened from this device in the last ${windowMinutes} min (limit ${max})`,
      )
    }
  }
  if (limits.perIp && claim.client_ip_hash) {
    const { max, windowMinutes } = limits.perIp
    const n = await inWindow(windowMinutes, { clientIpHash: claim.client_ip_hash })
    if (n >= max) {
      throw CardErrors.claimRefused(
        'CLAIM_LIMIT_IP',
        `${n} card(s) of template ${template.id} opened from this IP address in the last ${windowMinutes} min (limit ${max})`,
      )
    }
  }
  if (limits.perDay !== undefined) {
    const since = chinaDayStart(chinaDate(clock.now()))!.toISOString()
    const n = await repo.countOpeningClaims(db, { ...base, since })
    if (n >= limits.perDay) {
      throw CardErrors.claimRefused(
        'CLAIM_LIMIT_DAY',
        `${n} card(s) of template ${template.id} opened today (limit ${limits.perDay} a day)`,
      )
    }
  }
}

/** Claims refused per reason since `since`, every reason listed (0 when none). */
export async function claimRefusals(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  since: string,
): Promise<{ errcode: string; count: number }[]> {
  const rows = await repo.countRefusals(deps.db, merchantId, since, CLAIM_REFUSAL_CODES)
  const byCode = new Map(rows.map((r) => [r.error_code, Number(r.n)]))
  return CLAIM_REFUSAL_CODES.map((errcode) => ({ errcode, count: byCode.get(errcode) ?? 0 }))
}

export interface ClaimBlock {
  alipayUserId: string
  reason: string
  blockedBy: string
  createdAt: string
}

const toBlock = (r: ClaimBlockRow): ClaimBlock => ({
  alipayUserId: r.alipay_user_id,
  reason: r.reason,
  blockedBy: r.blocked_by,
  createdAt: r.created_at,
})

/** Blocks an Alipay user from claiming the merchant's cards (their held cards stay). Audited. */
export async function blockClaims(
  deps: Pick<AppDeps, 'db' | 'clock' | 'ids'>,
  merchantId: string,
  input: { alipayUserId: string; reason: string },
  actor: Actor,
): Promise<ClaimBlock> {
  return deps.db.transaction().execute(async (trx) => {
    const row: ClaimBlockRow = {
      merchant_id: merchantId,
      alipay_user_id: input.alipayUserId,
      reason: input.reason,
      blocked_by: actor.actor,
      created_at: deps.clock.nowIso(),
    }
    if (!(await repo.insertBlockOnce(trx, row))) {
      return toBlock((await repo.findBlock(trx, merchantId, input.alipayUserId))!)
    }
    await recordAudit(
      { ...deps, db: trx },
      {
        merchantId,
        ...actor,
        action: 'claim_block.add',
        target: { type: 'alipay_user', id: input.alipayUserId },
        after: { reason: input.reason },
      },
    )
    return toBlock(row)
  })
}

export async function unblockClaims(
  deps: Pick<AppDeps, 'db' | 'clock' | 'ids'>,
  merchantId: string,
  alipayUserId: string,
  actor: Actor,
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const block = await repo.findBlock(trx, merchantId, alipayUserId)
    if (!block || !(await repo.deleteBlock(trx, merchantId, alipayUserId))) {
      throw CardErrors.claimBlockNotFound(alipayUserId)
    }
    await recordAudit(
      { ...deps, db: trx },
      {
        merchantId,
        ...actor,
        action: 'claim_block.remove',
        target: { type: 'alipay_user', id: alipayUserId },
        before: { reason: block.reason, blockedBy: block.blocked_by },
      },
    )
  })
}

export async function listClaimBlocks(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
): Promise<ClaimBlock[]> {
  return (await repo.listBlocks(deps.db, merchantId)).map(toBlock)
}
