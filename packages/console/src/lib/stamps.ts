import type {
  EarningRule,
  ExchangeActivitySpec,
  StampActivitySpec,
  StampActivityView,
} from '@kaguan/contracts'
import dayjs, { type Dayjs } from 'dayjs'
import type { FieldProblem } from '../api/client.js'
import { publishAdvice } from './publish-advice.js'

export type StampActivityType = StampActivityView['type']

/**
 * An activity as the editor's form holds it: the spec's own paths (so a field the API blames,
 * `spec.card.name`, lands on the form field `card.name`), with times as dates, money as numbers.
 */
export interface StampForm {
  name: string
  description?: string
  startTime?: Dayjs
  endTime?: Dayjs
  shopIds: string[]
  // POINT_SEND
  card?: { name?: string; description?: string; logoImageId?: string }
  rule?: {
    minAmount?: number | null
    shopIds?: string[]
    maxPerDay?: number | null
    perAmountStep?: { amount?: number | null; stamps?: number | null }
  }
  stampsToComplete?: number | null
  mirrorToKoubei?: boolean
  // DIRECT_SEND
  stampActivityId?: string
  stampsPerVoucher?: number | null
  holdTtlMinutes?: number | null
  voucher?: {
    type?: 'MONEY' | 'RATE'
    name?: string
    worth?: number | null
    rate?: number | null
    minConsume?: number | null
    validity?: { type?: 'FIXED' | 'RELATIVE'; days?: number | null; period?: [Dayjs, Dayjs] }
    description?: string
  }
  budget?: number | null
  allowRepeatSend?: boolean
}

/** ISO-8601 with the browser's offset, as the API takes times: `2026-12-01T00:00:00+08:00`. */
export function isoTime(d: Dayjs): string {
  return d.format('YYYY-MM-DDTHH:mm:ssZ')
}

/** Yuan as the API takes it: `10`, `9.90`. */
export function yuan(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2)
}

const present = <T>(v: T | null | undefined): v is T =>
  v !== null && v !== undefined && !(typeof v === 'string' && v.trim() === '')

/** What a new activity starts from: a month from now, 5 stamps a card, one stamp a trade. */
export function newStampForm(type: StampActivityType, now: Dayjs = dayjs()): StampForm {
  const start = now.startOf('day')
  const common = {
    name: '',
    shopIds: [],
    startTime: start,
    endTime: start.add(3, 'month'),
  }
  return type === 'POINT_SEND'
    ? {
        ...common,
        card: { name: '', description: '' },
        rule: {},
        stampsToComplete: 5,
        mirrorToKoubei: true,
      }
    : {
        ...common,
        stampsPerVoucher: 5,
        holdTtlMinutes: 30,
        voucher: { type: 'MONEY', name: '', validity: { type: 'RELATIVE', days: 30 } },
        budget: 1000,
        allowRepeatSend: true,
      }
}

/** The spec the API takes, from the form (empty optional fields left out, not sent as ""). */
export function specFromForm(type: StampActivityType, f: StampForm): Record<string, unknown> {
  const common: Record<string, unknown> = {
    name: f.name?.trim() ?? '',
    ...(present(f.description) ? { description: f.description.trim() } : {}),
    ...(f.startTime ? { startTime: isoTime(f.startTime) } : {}),
    ...(f.endTime ? { endTime: isoTime(f.endTime) } : {}),
    shopIds: f.shopIds ?? [],
  }
  if (type === 'POINT_SEND') {
    const r = f.rule ?? {}
    const step = r.perAmountStep
    const rule: EarningRule = {
      ...(present(r.minAmount) ? { minAmount: yuan(r.minAmount) } : {}),
      ...(r.shopIds?.length ? { shopIds: r.shopIds } : {}),
      ...(present(r.maxPerDay) ? { maxPerDay: r.maxPerDay } : {}),
      ...(step && present(step.amount) && present(step.stamps)
        ? { perAmountStep: { amount: yuan(step.amount), stamps: step.stamps } }
        : {}),
    }
    return {
      ...common,
      card: {
        name: f.card?.name?.trim() ?? '',
        description: f.card?.description?.trim() ?? '',
        ...(present(f.card?.logoImageId) ? { logoImageId: f.card.logoImageId } : {}),
      },
      rule,
      ...(present(f.stampsToComplete) ? { stampsToComplete: f.stampsToComplete } : {}),
      ...(f.mirrorToKoubei === false ? { mirrorToKoubei: false } : {}),
    }
  }
  const v = f.voucher ?? {}
  const validity =
    v.validity?.type === 'FIXED'
      ? {
          type: 'FIXED',
          ...(v.validity.period
            ? {
                startTime: isoTime(v.validity.period[0]),
                endTime: isoTime(v.validity.period[1]),
              }
            : {}),
        }
      : { type: 'RELATIVE', ...(present(v.validity?.days) ? { days: v.validity.days } : {}) }
  return {
    ...common,
    ...(present(f.stampActivityId) ? { stampActivityId: f.stampActivityId } : {}),
    ...(present(f.stampsPerVoucher) ? { stampsPerVoucher: f.stampsPerVoucher } : {}),
    ...(present(f.holdTtlMinutes) ? { holdTtlMinutes: f.holdTtlMinutes } : {}),
    voucher: {
      type: v.type ?? 'MONEY',
      name: v.name?.trim() ?? '',
      ...(v.type !== 'RATE' && present(v.worth) ? { worth: yuan(v.worth) } : {}),
      ...(v.type === 'RATE' && present(v.rate) ? { rate: String(Number(v.rate.toFixed(2))) } : {}),
      ...(present(v.minConsume) ? { minConsume: yuan(v.minConsume) } : {}),
      validity,
      ...(present(v.description) ? { description: v.description.trim() } : {}),
    },
    ...(present(f.budget) ? { budget: f.budget } : {}),
    allowRepeatSend: f.allowRepeatSend ?? false,
  }
}

const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s))

/** The form of a saved draft (the reverse of {@link specFromForm}). */
export function formFromSpec(type: StampActivityType, spec: Record<string, unknown>): StampForm {
  const common = spec as Partial<StampActivitySpec & ExchangeActivitySpec>
  const base: StampForm = {
    name: common.name ?? '',
    ...(common.description !== undefined ? { description: common.description } : {}),
    ...(common.startTime ? { startTime: dayjs(common.startTime) } : {}),
    ...(common.endTime ? { endTime: dayjs(common.endTime) } : {}),
    shopIds: common.shopIds ?? [],
  }
  if (type === 'POINT_SEND') {
    const s = spec as Partial<StampActivitySpec>
    const r: Partial<EarningRule> = s.rule ?? {}
    return {
      ...base,
      card: { ...s.card },
      rule: {
        ...(r.minAmount ? { minAmount: num(r.minAmount) } : {}),
        ...(r.shopIds ? { shopIds: r.shopIds } : {}),
        ...(r.maxPerDay ? { maxPerDay: r.maxPerDay } : {}),
        ...(r.perAmountStep
          ? {
              perAmountStep: {
                amount: num(r.perAmountStep.amount),
                stamps: r.perAmountStep.stamps,
              },
            }
          : {}),
      },
      stampsToComplete: s.stampsToComplete ?? null,
      mirrorToKoubei: s.mirrorToKoubei !== false,
    }
  }
  const s = spec as Partial<ExchangeActivitySpec>
  const v: Partial<ExchangeActivitySpec['voucher']> = s.voucher ?? {}
  const validity = v.validity
  return {
    ...base,
    ...(s.stampActivityId ? { stampActivityId: s.stampActivityId } : {}),
    stampsPerVoucher: s.stampsPerVoucher ?? null,
    holdTtlMinutes: s.holdTtlMinutes ?? null,
    voucher: {
      type: v.type ?? 'MONEY',
      name: v.name ?? '',
      worth: num(v.worth) ?? null,
      rate: num(v.rate) ?? null,
      minConsume: num(v.minConsume) ?? null,
      validity:
        validity?.type === 'FIXED'
          ? { type: 'FIXED', period: [dayjs(validity.startTime), dayjs(validity.endTime)] }
          : { type: 'RELATIVE', days: validity?.days ?? null },
      ...(v.description !== undefined ? { description: v.description } : {}),
    },
    budget: s.budget ?? null,
    allowRepeatSend: s.allowRepeatSend ?? false,
  }
}

/**
 * The API names the voucher's fixed validity by its ends (`voucher.validity.startTime`); the form
 * holds them as one range field. Problems move to the field that shows them.
 */
export function stampFormProblems(problems: readonly FieldProblem[]): FieldProblem[] {
  return problems.map((p) => ({
    ...p,
    field: p.field.replace(/voucher\.validity\.(startTime|endTime)$/, 'voucher.validity.period'),
  }))
}

/** One piece of advice: an i18n key and its values. */
export interface Advice {
  key: string
  values?: Record<string, string | number>
}

/**
 * What to do about a refused publish, from the errcode and the fields the API blamed: a shop
 * without its Alipay shop id, an exchange whose stamp activity is not published yet, a state
 * change that already happened; Alipay's own refusals keep the template advice (app config,
 * permission, reachability).
 */
export function stampPublishAdvice(
  error: { errcode: string; message: string; fields: readonly FieldProblem[] },
  shopName: (index: number) => string | undefined,
): Advice[] {
  const advice: Advice[] = []
  for (const p of error.fields) {
    const shop = /(?:^|\.)shopIds\.(\d+)$/.exec(p.field)
    if (shop && /alipayShopId/i.test(p.message)) {
      advice.push({
        key: 'stamps.advice.shopWithoutAlipayId',
        values: { shop: shopName(Number(shop[1])) ?? `#${Number(shop[1]) + 1}` },
      })
    } else if (/stampActivityId$/.test(p.field) && /publish/i.test(p.message)) {
      advice.push({ key: 'stamps.advice.publishStampFirst' })
    }
  }
  if (error.errcode === 'STAMPS_ACTIVITY_STATE') {
    advice.push({ key: 'stamps.advice.state' })
  }
  advice.push(...publishAdvice(error).map((key) => ({ key })))
  if (!advice.length && /koubei/i.test(`${error.errcode} ${error.message}`)) {
    advice.push({ key: 'stamps.advice.koubei' })
  }
  return advice
}

/** How a ledger entry moved the account's available and frozen stamps. */
export function entryEffect(entry: { type: string; amount: number }): {
  available: number
  frozen: number
} {
  switch (entry.type) {
    case 'DEPOSIT':
      return { available: entry.amount, frozen: 0 }
    case 'CONSUME':
      return { available: -entry.amount, frozen: 0 }
    case 'FREEZE':
      return { available: -entry.amount, frozen: entry.amount }
    case 'COMMIT':
      return { available: 0, frozen: -entry.amount }
    case 'CANCEL':
      return { available: entry.amount, frozen: -entry.amount }
    default:
      return { available: 0, frozen: 0 }
  }
}

/**
 * How long a held exchange still waits for its coupon claim: minutes left (rounded up), or
 * overdue once the TTL passed (the worker cancels it on its next sweep). Resolved holds: none.
 */
export function holdCountdown(
  hold: { status: string; expiresAt: string },
  now: Date,
): { state: 'waiting'; minutes: number } | { state: 'overdue' } | { state: 'resolved' } {
  if (hold.status !== 'held') {
    return { state: 'resolved' }
  }
  const ms = Date.parse(hold.expiresAt) - now.getTime()
  return ms > 0 ? { state: 'waiting', minutes: Math.ceil(ms / 60_000) } : { state: 'overdue' }
}
