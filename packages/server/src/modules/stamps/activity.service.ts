import type { StampsDeps } from './stamps.deps.js'
import {
  ExchangeActivitySpec,
  StampActivitySpec,
  type StampActivityBody,
  type StampActivityView,
} from '@kaguan/contracts'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { AppDeps } from '../../deps.js'
import type { FieldProblem } from '../../shared/errors.js'
import { recordAudit } from '../audit/index.js'
import { alipayContext, explainAlipayError } from '../merchants/index.js'
import { findShops } from '../shops/index.js'
import { listImages } from '../templates/index.js'
import { StampErrors } from './stamps.errors.js'
import * as repo from './stamps.repository.js'
import type { StampActivityRow, StampActivityType } from './stamps.table.js'
import {
  koubeiVoucherProvider,
  pointSendCampaign,
  type VoucherProvider,
} from './voucher-provider.js'

type Actor = { actor: string; requestId?: string }

export const DEFAULT_HOLD_TTL_MINUTES = 30

/** Where Koubei sends the coupon-claimed notice of an activity (the `mini` role). */
export const KOUBEI_NOTIFY_PATH = '/alipay/koubei/notify'

export type StampActivity =
  | (Omit<StampActivityView, 'type' | 'spec'> & { type: 'POINT_SEND'; spec: StampActivitySpec })
  | (Omit<StampActivityView, 'type' | 'spec'> & { type: 'DIRECT_SEND'; spec: ExchangeActivitySpec })

export function toActivity(row: StampActivityRow): StampActivity {
  const base = {
    id: row.id,
    merchantId: row.merchant_id,
    status: row.status,
    name: row.name,
    holdTtlSeconds: Number(row.hold_ttl_seconds),
    koubei: row.alipay_camp_id
      ? { campId: row.alipay_camp_id, itemId: row.alipay_item_id, couponUrl: row.coupon_url }
      : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    publishedAt: row.published_at,
    endedAt: row.ended_at,
  }
  const spec: unknown = JSON.parse(row.spec_json)
  return row.type === 'POINT_SEND'
    ? { ...base, type: 'POINT_SEND', spec: spec as StampActivitySpec }
    : { ...base, type: 'DIRECT_SEND', spec: spec as ExchangeActivitySpec }
}

/** Schema problems, one per field, named `spec.<path>` as the caller wrote it. */
function schemaProblems(schema: TSchema, spec: unknown): FieldProblem[] {
  const seen = new Set<string>()
  const problems: FieldProblem[] = []
  for (const e of Value.Errors(schema, spec)) {
    const path = e.path.replace(/^\//, '').replace(/\//g, '.')
    const field = path ? `spec.${path}` : 'spec'
    if (!seen.has(field)) {
      seen.add(field)
      problems.push({ field, message: e.message })
    }
  }
  return problems
}

/** Checks a spec: its schema, then what needs the database (shops, images, the stamp activity). */
async function checkSpec(
  deps: StampsDeps,
  merchantId: string,
  body: StampActivityBody,
): Promise<{ spec: StampActivitySpec | ExchangeActivitySpec; stampActivityId: string | null }> {
  const db = deps.db
  const schema = body.type === 'POINT_SEND' ? StampActivitySpec : ExchangeActivitySpec
  const problems = schemaProblems(schema, body.spec)
  if (problems.length) {
    throw StampErrors.invalid(problems)
  }
  const spec = body.spec as StampActivitySpec | ExchangeActivitySpec
  if (new Date(spec.endTime) <= new Date(spec.startTime)) {
    problems.push({ field: 'spec.endTime', message: 'must be after startTime' })
  }
  const known = new Set((await findShops(deps, merchantId, spec.shopIds)).map((s) => s.id))
  spec.shopIds.forEach((id, i) => {
    if (!known.has(id)) {
      problems.push({ field: `spec.shopIds.${i}`, message: `shop ${id} is not this merchant's` })
    }
  })
  const images = new Set((await listImages(deps, merchantId)).map((i) => i.id))
  let stampActivityId: string | null = null
  if (body.type === 'POINT_SEND') {
    const s = spec as StampActivitySpec
    ;(s.rule.shopIds ?? []).forEach((id, i) => {
      if (!s.shopIds.includes(id)) {
        problems.push({
          field: `spec.rule.shopIds.${i}`,
          message: `shop ${id} is not one of the activity's shopIds`,
        })
      }
    })
    if (s.card.logoImageId && !images.has(s.card.logoImageId)) {
      problems.push({ field: 'spec.card.logoImageId', message: 'no such uploaded image' })
    }
    problems.push(...expiryProblems(s))
  } else {
    const s = spec as ExchangeActivitySpec
    const stamp = await repo.findActivity(db, s.stampActivityId)
    if (!stamp || stamp.merchant_id !== merchantId || stamp.type !== 'POINT_SEND') {
      problems.push({
        field: 'spec.stampActivityId',
        message: 'is not a stamp activity (POINT_SEND) of this merchant',
      })
    }
    stampActivityId = s.stampActivityId
    if (s.voucher.type === 'MONEY' && !s.voucher.worth) {
      problems.push({ field: 'spec.voucher.worth', message: 'a MONEY voucher needs its worth' })
    }
    if (s.voucher.type === 'RATE' && !s.voucher.rate) {
      problems.push({ field: 'spec.voucher.rate', message: 'a RATE voucher needs its rate' })
    }
    if (
      s.voucher.validity.type === 'FIXED' &&
      new Date(s.voucher.validity.endTime) <= new Date(s.voucher.validity.startTime)
    ) {
      problems.push({ field: 'spec.voucher.validity.endTime', message: 'must be after startTime' })
    }
    if (s.voucher.logoImageId && !images.has(s.voucher.logoImageId)) {
      problems.push({ field: 'spec.voucher.logoImageId', message: 'no such uploaded image' })
    }
  }
  if (problems.length) {
    throw StampErrors.invalid(problems)
  }
  return { spec, stampActivityId }
}

/** The expiry rule's fields that only make sense together. */
function expiryProblems(spec: StampActivitySpec): FieldProblem[] {
  const rule = spec.expiry
  if (!rule) {
    return []
  }
  const problems: FieldProblem[] = []
  if (rule.type === 'AFTER_EARNED') {
    if (rule.days === undefined) {
      problems.push({
        field: 'spec.expiry.days',
        message: 'AFTER_EARNED needs the days stamps live',
      })
    }
    if (rule.graceDays !== undefined) {
      problems.push({ field: 'spec.expiry.graceDays', message: 'is for ACTIVITY_END only' })
    }
    if (
      rule.days !== undefined &&
      rule.remindDaysBefore !== undefined &&
      rule.remindDaysBefore >= rule.days
    ) {
      problems.push({
        field: 'spec.expiry.remindDaysBefore',
        message: `must be less than expiry.days (${rule.days})`,
      })
    }
  } else if (rule.days !== undefined) {
    problems.push({ field: 'spec.expiry.days', message: 'is for AFTER_EARNED only' })
  }
  return problems
}

function ttlSeconds(
  type: StampActivityType,
  spec: StampActivitySpec | ExchangeActivitySpec,
): number {
  const minutes =
    type === 'DIRECT_SEND'
      ? ((spec as ExchangeActivitySpec).holdTtlMinutes ?? DEFAULT_HOLD_TTL_MINUTES)
      : DEFAULT_HOLD_TTL_MINUTES
  return minutes * 60
}

/** A new draft; nothing reaches Alipay before publish. */
export async function createActivity(
  deps: StampsDeps,
  merchantId: string,
  body: StampActivityBody,
  actor: Actor,
): Promise<StampActivity> {
  const { spec, stampActivityId } = await checkSpec(deps, merchantId, body)
  const now = deps.clock.nowIso()
  const id = deps.ids.next('sta')
  await deps.db.transaction().execute(async (trx) => {
    await repo.insertActivity(trx, {
      id,
      merchant_id: merchantId,
      type: body.type,
      status: 'draft',
      name: spec.name,
      spec_json: JSON.stringify(spec),
      stamp_activity_id: stampActivityId,
      hold_ttl_seconds: ttlSeconds(body.type, spec),
      alipay_camp_id: null,
      koubei_account: null,
      alipay_item_id: null,
      coupon_url: null,
      created_at: now,
      updated_at: now,
      published_at: null,
      ended_at: null,
    })
    await recordAudit(
      { ...deps, db: trx },
      {
        merchantId,
        ...actor,
        action: 'stamp_activity.create',
        target: { type: 'stamp_activity', id },
        after: { type: body.type, spec },
      },
    )
  })
  return getActivity(deps, merchantId, id)
}

/** Replaces a draft's spec; a published activity cannot change (Koubei keeps what it got). */
export async function updateActivity(
  deps: StampsDeps,
  merchantId: string,
  activityId: string,
  body: StampActivityBody,
  actor: Actor,
): Promise<StampActivity> {
  const current = await getActivity(deps, merchantId, activityId)
  if (current.type !== body.type) {
    throw StampErrors.invalid([{ field: 'type', message: `the activity is a ${current.type}` }])
  }
  if (current.status !== 'draft') {
    throw StampErrors.activityState(activityId, current.status, 'draft')
  }
  const { spec, stampActivityId } = await checkSpec(deps, merchantId, body)
  await deps.db.transaction().execute(async (trx) => {
    const row = await repo.updateActivity(
      trx,
      activityId,
      {
        name: spec.name,
        spec_json: JSON.stringify(spec),
        stamp_activity_id: stampActivityId,
        hold_ttl_seconds: ttlSeconds(body.type, spec),
        updated_at: deps.clock.nowIso(),
      },
      ['draft'],
    )
    if (!row) {
      throw StampErrors.activityState(activityId, 'not draft', 'draft')
    }
    await recordAudit(
      { ...deps, db: trx },
      {
        merchantId,
        ...actor,
        action: 'stamp_activity.update',
        target: { type: 'stamp_activity', id: activityId },
        before: { spec: current.spec },
        after: { spec },
      },
    )
  })
  return getActivity(deps, merchantId, activityId)
}

export async function getActivity(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  activityId: string,
): Promise<StampActivity> {
  const row = await repo.findActivity(deps.db, activityId)
  if (!row || row.merchant_id !== merchantId) {
    throw StampErrors.activityNotFound(activityId)
  }
  return toActivity(row)
}

export async function listActivities(
  deps: Pick<AppDeps, 'db'>,
  merchantId: string,
  filter: { status?: string; type?: string } = {},
): Promise<StampActivity[]> {
  return (await repo.listActivities(deps.db, merchantId, filter)).map(toActivity)
}

/** What publishing needs from outside: the merchant's voucher provider and Koubei client. */
export interface PublishPorts {
  vouchers: VoucherProvider
  createPointCampaign: (
    biz: ReturnType<typeof pointSendCampaign>,
    notifyUrl: string | undefined,
  ) => Promise<{ campId: string; activityAccount?: string | undefined }>
  notifyUrl: string | undefined
}

/** The Koubei ports of a merchant, through its Alipay client (ALIPAY_NOT_CONFIGURED without one). */
export async function koubeiPorts(deps: StampsDeps, merchantId: string): Promise<PublishPorts> {
  const ctx = await alipayContext(deps, merchantId)
  return {
    vouchers: koubeiVoucherProvider(ctx.client, ctx.appAuthToken),
    createPointCampaign: async (biz, notifyUrl) => {
      const opts = { appAuthToken: ctx.appAuthToken }
      const { camp_id: campId } = await ctx.client.createCampaignActivity(biz, {
        ...opts,
        notifyUrl,
      })
      // The point account stamps are mirrored to "comes from the activity's detail query"
      // (koubei-points-api.md §3); where in it is unconfirmed: ext_info.activity_account here.
      const { camp_detail: detail } = await ctx.client.queryCampaignActivity(
        { camp_id: campId },
        opts,
      )
      let activityAccount: string | undefined
      try {
        const ext = JSON.parse(detail.ext_info ?? '{}') as { activity_account?: unknown }
        activityAccount =
          typeof ext.activity_account === 'string' ? ext.activity_account : undefined
      } catch {
        activityAccount = undefined
      }
      return { campId, activityAccount }
    },
    // The merchant in the path, as for the card notifications: one ISV app may serve several.
    notifyUrl: ctx.publicBaseUrl
      ? `${ctx.publicBaseUrl}${KOUBEI_NOTIFY_PATH}/${merchantId}`
      : undefined,
  }
}

/**
 * draft → published. Mirrored to Koubei first (`activity.create`, and `.query` for an exchange's
 * coupon page): an exchange must be, a stamp activity when `mirrorToKoubei` is not false. Every
 * shop must carry its Alipay shop id then; a missing one is a 400 naming it, nothing sent.
 */
export async function publishActivity(
  deps: StampsDeps,
  merchantId: string,
  activityId: string,
  actor: Actor,
  ports?: PublishPorts,
): Promise<StampActivity> {
  const db = deps.db
  const activity = await getActivity(deps, merchantId, activityId)
  if (activity.status !== 'draft') {
    throw StampErrors.activityState(activityId, activity.status, 'draft')
  }
  const mirror = activity.type === 'DIRECT_SEND' || activity.spec.mirrorToKoubei !== false
  if (activity.type === 'DIRECT_SEND') {
    const stamp = await getActivity(deps, merchantId, activity.spec.stampActivityId)
    if (stamp.status !== 'published') {
      throw StampErrors.invalid([
        { field: 'spec.stampActivityId', message: `publish stamp activity ${stamp.id} first` },
      ])
    }
  }
  let koubei: {
    campId: string
    itemId: string | null
    couponUrl: string | null
    activityAccount?: string | undefined
  } | null = null
  if (mirror) {
    const shops = await findShops(deps, merchantId, activity.spec.shopIds)
    const problems: FieldProblem[] = []
    const alipayShopIds = activity.spec.shopIds.map((id, i) => {
      const shop = shops.find((s) => s.id === id)
      if (!shop?.alipayShopId) {
        problems.push({
          field: `spec.shopIds.${i}`,
          message: `shop ${id} has no alipayShopId; Koubei needs it`,
        })
      }
      return shop?.alipayShopId ?? ''
    })
    if (problems.length) {
      throw StampErrors.invalid(problems)
    }
    const alipayImageIds = new Map(
      (await listImages(deps, merchantId)).map((i) => [i.id, i.alipayImageId]),
    )
    const p = ports ?? (await koubeiPorts(deps, merchantId))
    try {
      if (activity.type === 'POINT_SEND') {
        const biz = pointSendCampaign({
          activityId,
          spec: activity.spec,
          alipayShopIds,
          alipayImageIds,
        })
        koubei = {
          ...(await p.createPointCampaign(biz, p.notifyUrl)),
          itemId: null,
          couponUrl: null,
        }
      } else {
        koubei = await p.vouchers.publishExchange({
          activityId,
          spec: activity.spec,
          alipayShopIds,
          alipayImageIds,
          notifyUrl: p.notifyUrl,
        })
      }
    } catch (error) {
      throw explainAlipayError(error, 'koubei.publish')
    }
  }
  const now = deps.clock.nowIso()
  await db.transaction().execute(async (trx) => {
    const row = await repo.updateActivity(
      trx,
      activityId,
      {
        status: 'published',
        published_at: now,
        updated_at: now,
        ...(koubei
          ? {
              alipay_camp_id: koubei.campId,
              koubei_account: koubei.activityAccount ?? null,
              alipay_item_id: koubei.itemId,
              coupon_url: koubei.couponUrl,
            }
          : {}),
      },
      ['draft'],
    )
    if (!row) {
      throw StampErrors.activityState(activityId, 'not draft', 'draft')
    }
    await recordAudit(
      { ...deps, db: trx },
      {
        merchantId,
        ...actor,
        action: 'stamp_activity.publish',
        target: { type: 'stamp_activity', id: activityId },
        after: { koubei },
      },
    )
  })
  return getActivity(deps, merchantId, activityId)
}

/** published → ended: no more earning or exchanges; the stamps stay in the ledger. */
export async function endActivity(
  deps: StampsDeps,
  merchantId: string,
  activityId: string,
  actor: Actor,
): Promise<StampActivity> {
  const activity = await getActivity(deps, merchantId, activityId)
  const now = deps.clock.nowIso()
  await deps.db.transaction().execute(async (trx) => {
    const row = await repo.updateActivity(
      trx,
      activityId,
      { status: 'ended', ended_at: now, updated_at: now },
      ['published'],
    )
    if (!row) {
      throw StampErrors.activityState(activityId, activity.status, 'published')
    }
    await recordAudit(
      { ...deps, db: trx },
      {
        merchantId,
        ...actor,
        action: 'stamp_activity.end',
        target: { type: 'stamp_activity', id: activityId },
      },
    )
  })
  return getActivity(deps, merchantId, activityId)
}

/** An activity by id alone, for the public exchange link (its merchant comes from the row). */
export async function findActivityAnywhere(
  deps: Pick<AppDeps, 'db'>,
  activityId: string,
): Promise<StampActivity> {
  const row = await repo.findActivity(deps.db, activityId)
  if (!row) {
    throw StampErrors.activityNotFound(activityId)
  }
  return toActivity(row)
}
