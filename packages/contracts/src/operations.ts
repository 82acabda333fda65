import { Type, type Static } from '@sinclair/typebox'

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

/** A member card as the admin API shows it. */
export const CardView = Type.Object({
  id: Type.String(),
  merchantId: Type.String(),
  memberId: Type.String(),
  templateId: Type.String(),
  alipayTemplateId: Type.String(),
  alipayUserId: Type.String(),
  bizCardNo: Type.String({ description: "The member's card number (Alipay's external_card_no)" }),
  alipayCardNo: Type.String({ description: "Alipay's card number (biz_card_no)" }),
  status: Type.Union([Type.Literal('active'), Type.Literal('deleted')]),
  point: Type.Integer(),
  level: Nullable(Type.String()),
  balance: Nullable(Type.String()),
  syncPending: Type.Boolean({ description: 'Alipay does not show the latest state yet' }),
  openDate: Type.String(),
  validDate: Type.String(),
  outString: Nullable(Type.String()),
  deletedAt: Nullable(Type.String()),
  createdAt: Type.String(),
})
export type CardView = Static<typeof CardView>

const MemberProfile = Type.Object({
  name: Type.Optional(Type.String()),
  mobile: Type.Optional(Type.String()),
  certNo: Type.Optional(Type.String()),
  gender: Type.Optional(Type.String()),
  birthday: Type.Optional(Type.String()),
})

/** A member with its cards: personal data for staff in `profile`, masked in `masked`. */
export const MemberWithCardsView = Type.Object({
  id: Type.String(),
  merchantId: Type.String(),
  alipayUserId: Type.String(),
  bizCardNo: Type.String(),
  source: Type.Union([Type.Literal('kaguan'), Type.Literal('crm')]),
  profile: MemberProfile,
  masked: MemberProfile,
  erasedAt: Type.Optional(
    Type.String({ description: 'When the personal data was erased on request (PIPL)' }),
  ),
  createdAt: Type.String(),
  cards: Type.Array(CardView),
})
export type MemberWithCardsView = Static<typeof MemberWithCardsView>

/**
 * Everything kaguan stores about one member, for a request under PIPL art. 45 (查阅、复制):
 * personal data in clear, the cards, the points ledger and the claims.
 */
export const MemberExportView = Type.Object({
  exportedAt: Type.String(),
  member: Type.Object({
    id: Type.String(),
    merchantId: Type.String(),
    alipayUserId: Type.String(),
    bizCardNo: Type.String(),
    source: Type.Union([Type.Literal('kaguan'), Type.Literal('crm')]),
    profile: MemberProfile,
    erasedAt: Type.Optional(Type.String()),
    createdAt: Type.String(),
  }),
  cards: Type.Array(CardView),
  pointEntries: Type.Array(
    Type.Object({
      cardId: Type.String(),
      delta: Type.Integer(),
      pointAfter: Type.Integer(),
      reason: Type.String(),
      source: Type.String(),
      createdAt: Type.String(),
    }),
  ),
  claims: Type.Array(
    Type.Object({
      at: Type.String(),
      alipayTemplateId: Type.String(),
      status: Type.String(),
      errcode: Nullable(Type.String()),
      outString: Nullable(Type.String()),
    }),
  ),
  note: Type.String({
    description: 'What this export does not hold (the CRM’s own records, in CRM mode)',
  }),
})
export type MemberExportView = Static<typeof MemberExportView>

export const MemberEraseBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'Why, for the audit log (e.g. the request’s reference)',
    }),
  },
  { additionalProperties: false },
)
export type MemberEraseBody = Static<typeof MemberEraseBody>

/** What an erasure did. */
export const MemberEraseResult = Type.Object({
  memberId: Type.String(),
  erasedAt: Type.String(),
  deletedCards: Type.Array(Type.String(), {
    description: 'Cards that were still active: deleted in Alipay and (CRM mode) the CRM told',
  }),
})
export type MemberEraseResult = Static<typeof MemberEraseResult>

/** An Alipay user blocked from claiming the merchant's cards. */
export const ClaimBlockView = Type.Object({
  alipayUserId: Type.String(),
  reason: Type.String(),
  blockedBy: Type.String(),
  createdAt: Type.String(),
})
export type ClaimBlockView = Static<typeof ClaimBlockView>

export const ClaimBlockBody = Type.Object(
  {
    alipayUserId: Type.String({ minLength: 1, maxLength: 64 }),
    reason: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
)
export type ClaimBlockBody = Static<typeof ClaimBlockBody>

/** One audit entry: who did what to which object, with before/after (secrets elided). */
export const AuditEntryView = Type.Object({
  id: Type.String(),
  merchantId: Nullable(Type.String()),
  actor: Type.String({ description: '`admin:<id>`, `cli`, `crm:<merchant>`, `system`' }),
  action: Type.String({ description: 'Dotted verb, e.g. template.publish' }),
  target: Type.Union([Type.Object({ type: Type.String(), id: Type.String() }), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
  requestId: Nullable(Type.String()),
  createdAt: Type.String(),
})
export type AuditEntryView = Static<typeof AuditEntryView>

/** `GET /api/dashboard`: a merchant's numbers over its last `days` China-time days. */
export const DashboardView = Type.Object({
  merchantId: Type.String(),
  days: Type.Integer(),
  claimsPerDay: Type.Array(
    Type.Object({
      date: Type.String({ description: 'China-time day, YYYY-MM-DD' }),
      count: Type.Integer({ description: 'Cards opened that day' }),
    }),
    { description: 'Oldest first; days without claims included with 0' },
  ),
  activeCards: Type.Integer({ description: 'Cards active now' }),
  pointsIssued: Type.Integer({ description: 'Points added in the period' }),
  pointsRedeemed: Type.Integer({ description: 'Points taken away in the period' }),
  stampsIssued: Type.Integer({ description: 'Stamps deposited (earned, given) in the period' }),
  stampsRedeemed: Type.Integer({
    description: 'Stamps spent in the period: exchanged for vouchers (COMMIT) or taken (CONSUME)',
  }),
  outbox: Type.Object(
    {
      pending: Type.Integer({ description: 'Deliveries waiting or in flight' }),
      parked: Type.Integer({ description: 'Deliveries that stopped and wait for an operator' }),
    },
    { description: 'Now, whatever the period' },
  ),
  recentClaimFailures: Type.Array(
    Type.Object({
      at: Type.String(),
      errcode: Type.String(),
      reason: Type.String(),
      memberRef: Type.Optional(Type.String({ description: 'The Alipay user id, when known' })),
    }),
    { description: 'The latest 10, newest first, whenever they were' },
  ),
  claimRefusals: Type.Array(
    Type.Object({
      errcode: Type.String({
        description: 'CLAIM_BLOCKED or a CLAIM_LIMIT_* code (docs/errcodes.md)',
      }),
      count: Type.Integer(),
    }),
    { description: 'Claims refused in the period by a claim limit or a block, per reason' },
  ),
})
export type DashboardView = Static<typeof DashboardView>

/** What `POST …/reconcile` takes: `limit` checks only the first cards (by id). */
export const ReconcileBody = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })) },
  { additionalProperties: false },
)
export type ReconcileBody = Static<typeof ReconcileBody>

/** What a finished reconcile found and repaired. */
export const ReconcileReport = Type.Object({
  checked: Type.Integer({ description: 'Cards compared with alipay.marketing.card.query' }),
  repushed: Type.Array(Type.String(), {
    description: 'Cards whose points, level or balance differed: pushed again',
  }),
  deleted: Type.Array(Type.String(), {
    description: 'Cards Alipay no longer shows: deleted here, the CRM told',
  }),
  failed: Type.Array(Type.Object({ cardId: Type.String(), error: Type.String() }), {
    description: 'Cards that could not be checked (the query failed)',
  }),
})
export type ReconcileReport = Static<typeof ReconcileReport>

/** A reconcile job: `checked` of `total` cards so far; the report once done. */
export const ReconcileJobView = Type.Object({
  jobId: Type.String(),
  merchantId: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  checked: Type.Integer(),
  total: Type.Integer({ description: 'Active cards when the run started (capped by limit)' }),
  startedAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  report: Type.Union([ReconcileReport, Type.Null()], { description: 'When done' }),
  error: Nullable(Type.String({ description: 'When failed: why the run stopped' })),
})
export type ReconcileJobView = Static<typeof ReconcileJobView>
