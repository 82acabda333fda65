import type { Executor } from '../../db/db.js'
import type { ClaimBlockRow } from './cards.table.js'

/** The claims that count against a limit: those in flight and those that opened a new card. */
export interface OpeningClaimsQuery {
  merchantId: string
  alipayTemplateId: string
  since: string
  /** Only claims that started before this one (ids sort by time): the earlier claim wins a race. */
  beforeId: string
  deviceHash?: string
  clientIpHash?: string
}

export async function countOpeningClaims(db: Executor, q: OpeningClaimsQuery): Promise<number> {
  let query = db
    .selectFrom('claims')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('merchant_id', '=', q.merchantId)
    .where('alipay_template_id', '=', q.alipayTemplateId)
    .where('created_at', '>=', q.since)
    .where('id', '<', q.beforeId)
    .where((eb) => eb.or([eb('status', '=', 'started'), eb('opened_card', '=', 1)]))
  if (q.deviceHash !== undefined) {
    query = query.where('device_hash', '=', q.deviceHash)
  }
  if (q.clientIpHash !== undefined) {
    query = query.where('client_ip_hash', '=', q.clientIpHash)
  }
  return Number((await query.executeTakeFirstOrThrow()).n)
}

/** Cards of a template the user has ever held with the merchant, deleted ones included. */
export async function countCardsEverHeld(
  db: Executor,
  merchantId: string,
  templateId: string,
  alipayUserId: string,
): Promise<number> {
  const r = await db
    .selectFrom('cards')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('merchant_id', '=', merchantId)
    .where('template_id', '=', templateId)
    .where('alipay_user_id', '=', alipayUserId)
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

/** Refused claims since `since`, per errcode among `codes`. */
export function countRefusals(
  db: Executor,
  merchantId: string,
  since: string,
  codes: readonly string[],
): Promise<{ error_code: string | null; n: string | number }[]> {
  return db
    .selectFrom('claims')
    .select((eb) => ['error_code', eb.fn.countAll<string | number>().as('n')])
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'failed')
    .where('created_at', '>=', since)
    .where('error_code', 'in', codes)
    .groupBy('error_code')
    .orderBy('error_code')
    .execute()
}

export function findBlock(
  db: Executor,
  merchantId: string,
  alipayUserId: string,
): Promise<ClaimBlockRow | undefined> {
  return db
    .selectFrom('claim_blocks')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('alipay_user_id', '=', alipayUserId)
    .executeTakeFirst()
}

/** Blocks the user; false when they were blocked already (the first reason stays). */
export async function insertBlockOnce(db: Executor, row: ClaimBlockRow): Promise<boolean> {
  const r = await db
    .insertInto('claim_blocks')
    .values(row)
    .onConflict((oc) => oc.columns(['merchant_id', 'alipay_user_id']).doNothing())
    .returning('alipay_user_id')
    .executeTakeFirst()
  return r !== undefined
}

export async function deleteBlock(
  db: Executor,
  merchantId: string,
  alipayUserId: string,
): Promise<boolean> {
  const r = await db
    .deleteFrom('claim_blocks')
    .where('merchant_id', '=', merchantId)
    .where('alipay_user_id', '=', alipayUserId)
    .executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}

export function listBlocks(db: Executor, merchantId: string): Promise<ClaimBlockRow[]> {
  return db
    .selectFrom('claim_blocks')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('created_at', 'desc')
    .limit(1000)
    .execute()
}
