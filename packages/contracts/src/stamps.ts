import { Type, type Static } from '@sinclair/typebox'

/** Yuan as a decimal string with at most two decimals: `10`, `9.90`. */
const Yuan = Type.String({ pattern: '^\\d{1,8}(\\.\\d{1,2})?$', description: 'yuan, e.g. 9.90' })
const Time = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'ISO-8601 with an offset, e.g. 2026-12-01T00:00:00+08:00',
})
const ShopIds = Type.Array(Type.String({ minLength: 1 }), {
  minItems: 1,
  maxItems: 100,
  uniqueItems: true,
  description: 'kaguan shop ids (each with its Alipay shop id when mirrored to Koubei)',
})

/** The earning rule of a stamp activity: which trades earn, and how many stamps. */
export const EarningRule = Type.Object(
  {
    minAmount: Type.Optional(Yuan),
    shopIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        uniqueItems: true,
        description: "Shops whose trades earn (a subset of the activity's); absent: all of them",
      }),
    ),
    maxPerDay: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: 'At most this many stamps a member earns per day (China time)',
      }),
    ),
    perAmountStep: Type.Optional(
      Type.Object(
        {
          amount: Yuan,
          stamps: Type.Integer({ minimum: 1, maximum: 100 }),
        },
        {
          additionalProperties: false,
          description: 'Instead of one stamp a trade: `stamps` for every full `amount`',
        },
      ),
    ),
  },
  { additionalProperties: false },
)
export type EarningRule = Static<typeof EarningRule>

/**
 * When a stamp activity's stamps expire. Stamps are spent oldest first, and stamps frozen for an
 * exchange count as spent until the hold is cancelled, so an expiry never takes them.
 */
export const StampExpiryRule = Type.Object(
  {
    type: Type.Union([Type.Literal('AFTER_EARNED'), Type.Literal('ACTIVITY_END')], {
      description:
        'AFTER_EARNED: stamps earned on a day expire at the end of the `days`-th day after it ' +
        '(China time); ACTIVITY_END: every stamp expires `graceDays` after the activity ends',
    }),
    days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 3650, description: 'AFTER_EARNED: days stamps live' }),
    ),
    graceDays: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 365,
        description: 'ACTIVITY_END: days after endTime to exchange the last stamps (default 0)',
      }),
    ),
    remindDaysBefore: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 30,
        description:
          "Days before stamps expire that the member gets Alipay's POINT_REMIND message " +
          '(default 3; 0: no reminder)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type StampExpiryRule = Static<typeof StampExpiryRule>

/** A stamp activity (Koubei `POINT_SEND`): the card a member collects stamps on. */
export const StampActivitySpec = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 32 }),
    description: Type.Optional(Type.String({ maxLength: 64 })),
    startTime: Time,
    endTime: Time,
    shopIds: ShopIds,
    card: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 16 }),
        description: Type.String({
          minLength: 1,
          maxLength: 16,
          description: 'Rule summary (16 characters)',
        }),
        logoImageId: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'An image uploaded to Alipay (POST /api/merchants/:id/images)',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    rule: EarningRule,
    stampsToComplete: Type.Integer({
      minimum: 1,
      maximum: 100,
      description: 'Stamps that fill a card (the card shows 3/5)',
    }),
    mirrorToKoubei: Type.Optional(
      Type.Boolean({ description: 'Create it on Koubei too (default true)' }),
    ),
    expiry: Type.Optional(StampExpiryRule),
  },
  { additionalProperties: false },
)
export type StampActivitySpec = Static<typeof StampActivitySpec>

/** An exchange activity (Koubei `DIRECT_SEND`, channel `URL_WITH_TOKEN`): vouchers for stamps. */
export const ExchangeActivitySpec = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 32 }),
    description: Type.Optional(Type.String({ maxLength: 64 })),
    startTime: Time,
    endTime: Time,
    shopIds: ShopIds,
    stampActivityId: Type.String({
      minLength: 1,
      description: 'The stamp activity whose stamps pay',
    }),
    stampsPerVoucher: Type.Integer({ minimum: 1, maximum: 100 }),
    holdTtlMinutes: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1440,
        description: 'How long frozen stamps wait for the coupon claim (default 30)',
      }),
    ),
    voucher: Type.Object(
      {
        type: Type.Union([Type.Literal('MONEY'), Type.Literal('RATE')], {
          description: 'MONEY: a ¥ voucher; RATE: a discount',
        }),
        name: Type.String({ minLength: 1, maxLength: 16 }),
        worth: Type.Optional(Yuan),
        rate: Type.Optional(
          Type.String({ pattern: '^0\\.\\d{1,2}$', description: 'RATE: 0.8 is 20% off' }),
        ),
        minConsume: Type.Optional(Yuan),
        validity: Type.Union([
          Type.Object(
            { type: Type.Literal('FIXED'), startTime: Time, endTime: Time },
            { additionalProperties: false },
          ),
          Type.Object(
            { type: Type.Literal('RELATIVE'), days: Type.Integer({ minimum: 1, maximum: 365 }) },
            { additionalProperties: false },
          ),
        ]),
        description: Type.Optional(Type.String({ maxLength: 64 })),
        logoImageId: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    budget: Type.Integer({
      minimum: 1,
      maximum: 10_000_000,
      description: 'Vouchers in all (budget_type QUANTITY)',
    }),
    allowRepeatSend: Type.Boolean({ description: 'May one member get the voucher more than once' }),
  },
  { additionalProperties: false },
)
export type ExchangeActivitySpec = Static<typeof ExchangeActivitySpec>

export const StampActivityType = Type.Union([
  Type.Literal('POINT_SEND'),
  Type.Literal('DIRECT_SEND'),
])

/** Create or replace a draft: the spec is checked against the schema of its `type`. */
export const StampActivityBody = Type.Object(
  { type: StampActivityType, spec: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
)
export type StampActivityBody = Static<typeof StampActivityBody>

export const StampActivityView = Type.Object({
  id: Type.String(),
  merchantId: Type.String(),
  type: StampActivityType,
  status: Type.Union([Type.Literal('draft'), Type.Literal('published'), Type.Literal('ended')]),
  name: Type.String(),
  spec: Type.Record(Type.String(), Type.Unknown()),
  holdTtlSeconds: Type.Integer(),
  koubei: Type.Union([
    Type.Null(),
    Type.Object({
      campId: Type.String(),
      itemId: Type.Union([Type.String(), Type.Null()]),
      couponUrl: Type.Union([Type.String(), Type.Null()]),
    }),
  ]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  publishedAt: Type.Union([Type.String(), Type.Null()]),
  endedAt: Type.Union([Type.String(), Type.Null()]),
})
export type StampActivityView = Static<typeof StampActivityView>

export const StampAccountView = Type.Object({
  id: Type.String(),
  merchantId: Type.String(),
  memberId: Type.String(),
  activityId: Type.String(),
  total: Type.Integer(),
  available: Type.Integer(),
  frozen: Type.Integer(),
  earned: Type.Integer(),
  updatedAt: Type.String(),
})
export type StampAccountView = Static<typeof StampAccountView>

export const StampEntryView = Type.Object({
  id: Type.String(),
  accountId: Type.String(),
  seq: Type.Integer(),
  type: Type.String(),
  amount: Type.Integer(),
  shortfall: Type.Integer(),
  availableAfter: Type.Integer(),
  frozenAfter: Type.Integer(),
  idempotencyKey: Type.String(),
  reason: Type.String(),
  source: Type.String(),
  actor: Type.String(),
  holdId: Type.Union([Type.String(), Type.Null()]),
  bizNo: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
})
export type StampEntryView = Static<typeof StampEntryView>

export const StampHoldView = Type.Object({
  id: Type.String(),
  accountId: Type.String(),
  amount: Type.Integer(),
  status: Type.String(),
  expiresAt: Type.String(),
  exchangeActivityId: Type.Union([Type.String(), Type.Null()]),
  outBizNo: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  resolvedAt: Type.Union([Type.String(), Type.Null()]),
})
export type StampHoldView = Static<typeof StampHoldView>

/** A manual change by an admin: audited. */
export const StampAdjustmentBody = Type.Object(
  {
    memberId: Type.String({ minLength: 1 }),
    delta: Type.Integer({
      minimum: -10_000,
      maximum: 10_000,
      not: { const: 0 },
      description: 'Stamps to add (positive) or take (negative)',
    }),
    reason: Type.String({ minLength: 1, maxLength: 200 }),
    idempotencyKey: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
)
export type StampAdjustmentBody = Static<typeof StampAdjustmentBody>

/** A hold as the exchanges-in-progress list shows it: whose, in which stamp activity. */
export const StampHoldListItem = Type.Intersect([
  StampHoldView,
  Type.Object({
    memberId: Type.String(),
    activityId: Type.String({ description: 'The stamp activity (POINT_SEND) of the account' }),
  }),
])
export type StampHoldListItem = Static<typeof StampHoldListItem>

export const StampHoldStatus = Type.Union([
  Type.Literal('held'),
  Type.Literal('committed'),
  Type.Literal('cancelled'),
])
