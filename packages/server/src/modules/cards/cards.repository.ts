import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely'
import type { DatabaseDialect } from '../../config.js'
import { chinaDaySql } from '../../db/china-day.js'
import type { Executor } from '../../db/db.js'
import { prepared } from '../../db/prepared.js'
import type { Database } from '../../db/schema.js'
import type { CardRow, ClaimRow, NewPointReminderRow, PointEntryRow } from './cards.table.js'

// Read for every push: compiled once (db/prepared.ts).
const cardById = prepared((db, v: { id: string }) =>
  db.selectFrom('cards').selectAll().where('id', '=', v.id),
)

export async function findCard(db: Executor, id: string): Promise<CardRow | undefined> {
  return (await cardById(db, { id })).rows[0]
}

export function findByAlipayCardNo(
  db: Executor,
  merchantId: string,
  alipayCardNo: string,
): Promise<CardRow | undefined> {
  return db
    .selectFrom('cards')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('alipay_card_no', '=', alipayCardNo)
    .executeTakeFirst()
}

const activeByBizCardNo = prepared(
  (
    db,
    v: { merchantId: string; bizCardNo: string; alipayTemplateId?: string },
    shape: 'for update' | '',
  ) => {
    let q = db
      .selectFrom('cards')
      .selectAll()
      .where('merchant_id', '=', v.merchantId)
      .where('biz_card_no', '=', v.bizCardNo)
      .where('status', '=', 'active')
    if (v.alipayTemplateId !== undefined) {
      q = q.where('alipay_template_id', '=', v.alipayTemplateId)
    }
    q = q.orderBy('created_at', 'desc')
    return shape === 'for update' ? q.forUpdate() : q
  },
)

/** The merchant's active card by its number, of one template or (no template named) of any. */
export async function findActiveByBizCardNo(
  db: Executor,
  merchantId: string,
  alipayTemplateId: string | undefined,
  bizCardNo: string,
  /** PostgreSQL only (SQLite has no `for update`): the read is the lock of the change. */
  forUpdate = false,
): Promise<CardRow | undefined> {
  const { rows } = await activeByBizCardNo(
    db,
    { merchantId, bizCardNo, alipayTemplateId },
    forUpdate ? 'for update' : '',
  )
  return rows[0]
}

export function findActiveForUser(
  db: Executor,
  merchantId: string,
  alipayTemplateId: string,
  alipayUserId: string,
  openId?: string,
): Promise<CardRow | undefined> {
  return db
    .selectFrom('cards')
    .selectAll()
    .where((eb) => sameUser(eb, { merchantId, alipayTemplateId }, alipayUserId, openId))
    .where('status', '=', 'active')
    .executeTakeFirst()
}

/** How many cards (any template, any status) the user ever had with the merchant. */
export async function countForUser(
  db: Executor,
  merchantId: string,
  alipayUserId: string,
  openId?: string,
): Promise<number> {
  const r = await db
    .selectFrom('cards')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) => sameUser(eb, { merchantId }, alipayUserId, openId))
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

/** Inserts the card unless Alipay's card number is already stored; true when inserted. */
export async function insertCardOnce(db: Executor, row: CardRow): Promise<boolean> {
  const r = await db
    .insertInto('cards')
    .values(row)
    .onConflict((oc) => oc.columns(['merchant_id', 'alipay_card_no']).doNothing())
    .returning('id')
    .executeTakeFirst()
  return r !== undefined
}

export function listByMembers(db: Executor, memberIds: readonly string[]): Promise<CardRow[]> {
  if (!memberIds.length) {
    return Promise.resolve([])
  }
  return db
    .selectFrom('cards')
    .selectAll()
    .where('member_id', 'in', memberIds)
    .orderBy('created_at', 'desc')
    .execute()
}

export function listActive(
  db: Executor,
  merchantId: string,
  afterId: string,
  limit: number,
): Promise<CardRow[]> {
  return db
    .selectFrom('cards')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'active')
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute()
}

/** Marks a card deleted; true only for the call that changed it (so DEL is sent once). */
export async function markDeleted(
  db: Executor,
  id: string,
  reason: string,
  now: string,
): Promise<boolean> {
  const r = await db
    .updateTable('cards')
    .set({ status: 'deleted', deleted_at: now, delete_reason: reason, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** Sets the desired state and bumps its version; the worker pushes the latest version. */
type CardState = {
  point?: number
  level?: string | null
  balance?: string | null
  templateId?: string
  alipayTemplateId?: string
}

const updateState = prepared((db, v: CardState & { id: string; now: string }) =>
  db
    .updateTable('cards')
    .set((eb) => ({
      ...(v.point !== undefined ? { point: v.point } : {}),
      ...(v.level !== undefined ? { level: v.level } : {}),
      ...(v.balance !== undefined ? { balance: v.balance } : {}),
      ...(v.templateId !== undefined ? { template_id: v.templateId } : {}),
      ...(v.alipayTemplateId !== undefined ? { alipay_template_id: v.alipayTemplateId } : {}),
      state_version: eb(eb.ref('state_version'), '+', 1),
      updated_at: v.now,
    }))
    .where('id', '=', v.id)
    .where('status', '=', 'active')
    .returningAll(),
)

export async function setState(
  db: Executor,
  id: string,
  state: CardState,
  now: string,
): Promise<CardRow | undefined> {
  const { rows } = await updateState(db, { ...state, id, now })
  return rows[0]
}

/** Adds `delta` points unless the result would be negative; one statement, no read-modify-write. */
export function addPoints(
  db: Executor,
  id: string,
  delta: number,
  now: string,
): Promise<CardRow | undefined> {
  return db
    .updateTable('cards')
    .set((eb) => ({
      point: eb(eb.ref('point'), '+', delta),
      state_version: eb(eb.ref('state_version'), '+', 1),
      updated_at: now,
    }))
    .where('id', '=', id)
    .where('status', '=', 'active')
    .where((eb) => eb(eb(eb.ref('point'), '+', delta), '>=', 0))
    .returningAll()
    .executeTakeFirst()
}

/** Records that Alipay shows `version`; never moves backwards (an older push finishing late). */
export async function markPushed(db: Executor, id: string, version: number): Promise<void> {
  await db
    .updateTable('cards')
    .set({ pushed_version: version })
    .where('id', '=', id)
    .where('pushed_version', '<', version)
    .execute()
}

export function findClaim(
  db: Executor,
  merchantId: string,
  requestId: string,
): Promise<ClaimRow | undefined> {
  return db
    .selectFrom('claims')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('request_id', '=', requestId)
    .executeTakeFirst()
}

export async function insertClaimOnce(db: Executor, row: ClaimRow): Promise<boolean> {
  const r = await db
    .insertInto('claims')
    .values(row)
    .onConflict((oc) => oc.columns(['merchant_id', 'request_id']).doNothing())
    .returning('id')
    .executeTakeFirst()
  return r !== undefined
}

/** Takes over a claim whose worker went silent (crashed mid-claim); true when taken. */
export async function takeOverStaleClaim(
  db: Executor,
  id: string,
  staleBefore: string,
  now: string,
): Promise<boolean> {
  const r = await db
    .updateTable('claims')
    .set({ updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'started')
    .where('updated_at', '<', staleBefore)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** The 3.1 open request the SPI answered for Alipay's card number (the result message names it). */
export function findSpiClaimByCardNo(
  db: Executor,
  merchantId: string,
  alipayCardNo: string,
): Promise<ClaimRow | undefined> {
  return db
    .selectFrom('claims')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('mode', '=', '3.1')
    .where('alipay_card_no', '=', alipayCardNo)
    .orderBy('created_at', 'desc')
    .executeTakeFirst()
}

/** Settles a 3.1 open request still waiting for its result; true when this call settled it. */
export async function settleSpiClaim(
  db: Executor,
  id: string,
  changes: Partial<ClaimRow>,
): Promise<boolean> {
  const r = await db
    .updateTable('claims')
    .set(changes)
    .where('id', '=', id)
    .where('status', '=', 'started')
    .executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

/** Takes a refused 3.1 open request back to `started` for a retried SPI call; true when taken. */
export async function settleFailedSpiClaim(
  db: Executor,
  id: string,
  nowIso: string,
): Promise<boolean> {
  const r = await db
    .updateTable('claims')
    .set({ status: 'started', updated_at: nowIso })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .where('answer', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

export async function finishClaim(
  db: Executor,
  id: string,
  changes: Partial<ClaimRow>,
): Promise<void> {
  await db.updateTable('claims').set(changes).where('id', '=', id).execute()
}

const insertEntry = prepared((db, row: PointEntryRow) =>
  db
    .insertInto('point_entries')
    .values(row)
    .onConflict((oc) => oc.columns(['merchant_id', 'source', 'idempotency_key']).doNothing())
    .returning('id'),
)

export async function insertEntryOnce(db: Executor, row: PointEntryRow): Promise<boolean> {
  const { rows } = await insertEntry(db, row)
  return rows.length > 0
}

export function findEntry(
  db: Executor,
  merchantId: string,
  source: string,
  key: string,
): Promise<PointEntryRow | undefined> {
  return db
    .selectFrom('point_entries')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('source', '=', source)
    .where('idempotency_key', '=', key)
    .executeTakeFirst()
}

export function listEntries(db: Executor, cardId: string, limit: number): Promise<PointEntryRow[]> {
  return db
    .selectFrom('point_entries')
    .selectAll()
    .where('card_id', '=', cardId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}

export async function insertCode(
  db: Executor,
  row: {
    code: string
    merchant_id: string
    card_id: string
    expires_at: string
    used_at: null
    created_at: string
  },
): Promise<void> {
  await db.insertInto('dynamic_codes').values(row).execute()
}

/** Uses a code once: true for the first valid use. */
export async function useCode(
  db: Executor,
  merchantId: string,
  code: string,
  now: string,
): Promise<string | undefined> {
  const r = await db
    .updateTable('dynamic_codes')
    .set({ used_at: now })
    .where('merchant_id', '=', merchantId)
    .where('code', '=', code)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('card_id')
    .executeTakeFirst()
  return r?.card_id
}

/**
 * Takes the card's row lock for the rest of the transaction (PostgreSQL; SQLite serialises writers
 * anyway) with a portable no-op update, so a read that follows sees the state no one else can change.
 */
/** Takes the card's row lock (a no-op write) and returns the row as it is under that lock. */
export function lockCard(db: Executor, id: string): Promise<CardRow | undefined> {
  return db
    .updateTable('cards')
    .set((eb) => ({ state_version: eb.ref('state_version') }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}

/** The members holding a card with this number, either kaguan's/the CRM's or Alipay's. */
export async function memberIdsByCardNo(
  db: Executor,
  merchantId: string,
  cardNo: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('cards')
    .select('member_id')
    .distinct()
    .where('merchant_id', '=', merchantId)
    .where((eb) => eb.or([eb('biz_card_no', '=', cardNo), eb('alipay_card_no', '=', cardNo)]))
    .execute()
  return rows.map((r) => r.member_id)
}

/** Cards opened per China-time day since `since` (ISO), only the days that had any. */
export async function countOpenedPerDay(
  db: Executor,
  dialect: DatabaseDialect,
  merchantId: string,
  since: string,
): Promise<{ day: string; n: number }[]> {
  const day = chinaDaySql(dialect, 'created_at')
  const rows = await db
    .selectFrom('cards')
    .select([day.as('day'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('merchant_id', '=', merchantId)
    .where('created_at', '>=', since)
    .groupBy(day)
    .execute()
  return rows.map((r) => ({ day: r.day, n: Number(r.n) }))
}

export async function countActive(db: Executor, merchantId: string): Promise<number> {
  const r = await db
    .selectFrom('cards')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

/** Points added and points taken away by ledger entries since `since` (ISO). */
export async function sumPointsSince(
  db: Executor,
  merchantId: string,
  since: string,
): Promise<{ issued: number; redeemed: number }> {
  const r = await db
    .selectFrom('point_entries')
    .select([
      sql<number>`coalesce(sum(case when delta > 0 then delta else 0 end), 0)`.as('issued'),
      sql<number>`coalesce(sum(case when delta < 0 then -delta else 0 end), 0)`.as('redeemed'),
    ])
    .where('merchant_id', '=', merchantId)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow()
  return { issued: Number(r.issued), redeemed: Number(r.redeemed) }
}

export function listFailedClaims(
  db: Executor,
  merchantId: string,
  limit: number,
): Promise<ClaimRow[]> {
  return db
    .selectFrom('claims')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'failed')
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}

/** The user's claims with the merchant, newest first: the claim history of a member. */
export function listClaimsOfUser(
  db: Executor,
  merchantId: string,
  alipayUserId: string,
  limit: number,
): Promise<ClaimRow[]> {
  return db
    .selectFrom('claims')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('alipay_user_id', '=', alipayUserId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}

/**
 * A card's points earned before `earnedBefore` (positive entries) and every point that left it
 * (negative entries, expiries included): spent oldest first, what is due is `earned − spent`.
 */
export async function pointExpiryTotals(
  db: Executor,
  cardId: string,
  earnedBefore: string,
): Promise<{ earned: number; spent: number }> {
  const row = await db
    .selectFrom('point_entries')
    .select([
      sql<number>`coalesce(sum(case when delta > 0 and created_at < ${earnedBefore} then delta else 0 end), 0)`.as(
        'earned',
      ),
      sql<number>`coalesce(sum(case when delta < 0 then -delta else 0 end), 0)`.as('spent'),
    ])
    .where('card_id', '=', cardId)
    .executeTakeFirst()
  return { earned: Number(row?.earned ?? 0), spent: Number(row?.spent ?? 0) }
}

/** `earned before earnedBefore − spent` of a card row, in SQL. */
function duePoints(earnedBefore: string) {
  return sql<number>`(select coalesce(sum(d.delta), 0) from point_entries d
      where d.card_id = cards.id and d.delta > 0 and d.created_at < ${earnedBefore})
    - (select coalesce(sum(-s.delta), 0) from point_entries s
      where s.card_id = cards.id and s.delta < 0)`
}

/** Active cards of a template still holding points earned before `earnedBefore`, by id. */
function cardsHoldingPointsFrom(db: Executor, templateId: string, earnedBefore: string) {
  return db
    .selectFrom('cards')
    .selectAll()
    .where('template_id', '=', templateId)
    .where('status', '=', 'active')
    .where('point', '>', 0)
    .where(sql<boolean>`${duePoints(earnedBefore)} > 0`)
    .orderBy('id')
}

/** Active cards of a template holding points earned before `earnedBefore` and not yet spent. */
export function cardsWithPointsDue(
  db: Executor,
  templateId: string,
  earnedBefore: string,
  limit: number,
): Promise<CardRow[]> {
  return cardsHoldingPointsFrom(db, templateId, earnedBefore).limit(limit).execute()
}

/**
 * Active cards of a template with points that expire by the moment `expiresAt` (earned before
 * `earnedBefore`) and that the worker has not looked at for that moment yet.
 */
export function cardsToRemind(
  db: Executor,
  templateId: string,
  earnedBefore: string,
  expiresAt: string,
  limit: number,
): Promise<CardRow[]> {
  return cardsHoldingPointsFrom(db, templateId, earnedBefore)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('point_reminders')
            .select('point_reminders.id')
            .whereRef('point_reminders.card_id', '=', 'cards.id')
            .where('point_reminders.expires_at', '=', expiresAt),
        ),
      ),
    )
    .limit(limit)
    .execute()
}

/** Records that a card was reminded of one expiry moment; false when it already was. */
export async function insertPointReminder(
  db: Executor,
  row: NewPointReminderRow,
): Promise<boolean> {
  const inserted = await db
    .insertInto('point_reminders')
    .values(row)
    .onConflict((oc) => oc.columns(['card_id', 'expires_at']).doNothing())
    .returning('id')
    .executeTakeFirst()
  return inserted !== undefined
}

/** A card of the user: by the key, or by the open_id beside an older user_id key (OpenID). */
function sameUser(
  eb: ExpressionBuilder<Database, 'cards'>,
  scope: { merchantId: string; alipayTemplateId?: string },
  alipayUserId: string,
  openId: string | undefined,
): Expression<SqlBool> {
  // The scope inside each alternative and nowhere else: an index then serves each one (SQLite's
  // OR-by-union). A scope condition outside the OR as well makes SQLite walk the scope's index
  // instead, every card of the template (6 ms per claim at 20,000 cards, growing with them).
  const by = (column: 'alipay_user_id' | 'alipay_open_id', value: string) =>
    eb.and([
      eb('merchant_id', '=', scope.merchantId),
      ...(scope.alipayTemplateId ? [eb('alipay_template_id', '=', scope.alipayTemplateId)] : []),
      eb(column, '=', value),
    ])
  return openId
    ? eb.or([
        by('alipay_user_id', alipayUserId),
        by('alipay_open_id', openId),
        by('alipay_user_id', openId),
      ])
    : by('alipay_user_id', alipayUserId)
}
