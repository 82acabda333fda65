import { Type, type Static } from '@sinclair/typebox'

/** `#RRGGBB` or `rgb(r,g,b)`. */
const Colour = Type.String({ minLength: 4, maxLength: 32, description: '#RRGGBB or rgb(r,g,b)' })

export const Validity = Type.Union(
  [
    Type.Object({ type: Type.Literal('permanent') }, { additionalProperties: false }),
    Type.Object(
      {
        type: Type.Literal('fixedEnd'),
        endDate: Type.String({ format: 'date', description: 'yyyy-MM-dd, last valid day' }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { type: Type.Literal('afterClaim'), days: Type.Integer({ minimum: 1, maximum: 3650 }) },
      { additionalProperties: false },
    ),
  ],
  { description: 'Permanent, until a fixed date, or N days after the card is claimed' },
)

export const CodeTypes = ['none', 'qr', 'barcode', 'dynamicQr', 'dynamicBarcode'] as const
export const FormFields = [
  'mobile',
  'name',
  'gender',
  'certNo',
  'birthday',
  'email',
  'address',
  'city',
] as const
export type FormField = (typeof FormFields)[number]

const Column = Type.Union([
  Type.Object(
    { kind: Type.Literal('point'), title: Type.String({ minLength: 1, maxLength: 16 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('level'), title: Type.String({ minLength: 1, maxLength: 16 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('balance'), title: Type.String({ minLength: 1, maxLength: 16 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('text'),
      title: Type.String({ minLength: 1, maxLength: 16 }),
      value: Type.String({ maxLength: 64 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('link'),
      title: Type.String({ minLength: 1, maxLength: 16 }),
      url: Type.String({ minLength: 1, maxLength: 1024 }),
    },
    { additionalProperties: false },
  ),
])

const Action = Type.Object(
  {
    code: Type.String({ pattern: '^[A-Za-z0-9_]{1,32}$' }),
    text: Type.String({ minLength: 1, maxLength: 6, description: 'At most 6 characters (Alipay)' }),
    target: Type.Union([
      Type.Object(
        { kind: Type.Literal('url'), url: Type.String({ minLength: 1, maxLength: 1024 }) },
        { additionalProperties: false },
      ),
      Type.Object(
        {
          kind: Type.Literal('miniProgram'),
          appId: Type.String({ pattern: '^[0-9]{16}$' }),
          page: Type.Optional(Type.String({ maxLength: 256 })),
          query: Type.Optional(Type.String({ maxLength: 256 })),
        },
        { additionalProperties: false },
      ),
    ]),
    showInCardBag: Type.Boolean({
      default: false,
      description: 'Shown in the card bag list; exactly 0 or 2 actions may set it (Alipay)',
    }),
  },
  { additionalProperties: false },
)

const Level = Type.Object(
  {
    code: Type.String({
      pattern: '^[A-Za-z0-9_-]{1,32}$',
      description: 'The value that travels as the card level',
    }),
    name: Type.String({ minLength: 1, maxLength: 16 }),
    description: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
)

/**
 * When a card's points expire (no-CRM mode; in CRM mode the CRM owns points). Points are spent
 * oldest first, so an expiry takes only what was earned long enough ago and is still there.
 */
export const PointExpiryRule = Type.Object(
  {
    type: Type.Literal('AFTER_EARNED', {
      description:
        'Points earned on a day expire at the end of the `days`-th day after it (China time)',
    }),
    days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 3650, description: 'Days points live (required)' }),
    ),
    remindDaysBefore: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 30,
        description:
          "Days before points expire that the member gets Alipay's POINT_REMIND message " +
          '(default 3, at most days - 1; 0: no reminder)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type PointExpiryRule = Static<typeof PointExpiryRule>

/** A card template as staff edit it: every section of the operations manual. */
/** At most `max` new cards within any `windowMinutes`. */
const claimWindow = (description: string) =>
  Type.Object(
    {
      max: Type.Integer({ minimum: 1, maximum: 1000 }),
      windowMinutes: Type.Integer({ minimum: 1, maximum: 43_200, description: 'Up to 30 days' }),
    },
    { additionalProperties: false, description },
  )

/**
 * Limits against farming open-card gifts (opening points, a coupon the CRM grants on ADD). kaguan
 * checks them at the claim, before the CRM or Alipay is asked, and they apply as soon as they are
 * saved (publishing is not needed: Alipay never sees them).
 */
export const ClaimLimits = Type.Object(
  {
    perUser: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description:
          'Cards of this template one Alipay user may open, ever: deleting the card and claiming again counts',
      }),
    ),
    perDevice: Type.Optional(
      claimWindow('New cards opened from one phone (kaguan’s device cookie) in a sliding window'),
    ),
    perIp: Type.Optional(claimWindow('New cards opened from one IP address in a sliding window')),
    perDay: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000_000,
        description: 'New cards of this template per China-time day, all users together',
      }),
    ),
  },
  { additionalProperties: false },
)
export type ClaimLimits = Static<typeof ClaimLimits>

export const TemplateSpec = Type.Object(
  {
    basic: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 32, description: 'Card name' }),
        validity: Validity,
        shopIds: Type.Array(Type.String(), {
          default: [],
          description: 'Applicable shops (kaguan shop ids)',
        }),
        servicePhone: Type.Optional(Type.String({ maxLength: 32 })),
        description: Type.Optional(Type.String({ maxLength: 256 })),
      },
      { additionalProperties: false },
    ),
    style: Type.Object(
      {
        displayName: Type.Optional(
          Type.String({
            maxLength: 32,
            description: 'Name shown in the wallet; the card name when absent',
          }),
        ),
        logoImageId: Type.String({
          minLength: 1,
          description: 'An uploaded image (kaguan image id)',
        }),
        backgroundImageId: Type.String({
          minLength: 1,
          description: 'An uploaded image (kaguan image id)',
        }),
        fontColor: Colour,
        backgroundColor: Colour,
        code: Type.Object(
          {
            type: Type.Union(CodeTypes.map((c) => Type.Literal(c))),
            refreshSeconds: Type.Optional(
              Type.Integer({ minimum: 30, maximum: 600, description: 'Dynamic codes only' }),
            ),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    columns: Type.Array(Column, { maxItems: 10, default: [{ kind: 'point', title: '积分' }] }),
    levels: Type.Array(Level, { maxItems: 20, default: [] }),
    actions: Type.Array(Action, { maxItems: 4, default: [] }),
    form: Type.Object(
      {
        fields: Type.Array(
          Type.Object(
            { field: Type.Union(FormFields.map((f) => Type.Literal(f))), required: Type.Boolean() },
            { additionalProperties: false },
          ),
          { minItems: 1, maxItems: 20 },
        ),
      },
      {
        additionalProperties: false,
        description: 'The open-card form; at least one required field',
      },
    ),
    defaults: Type.Object(
      {
        point: Type.Integer({
          minimum: 0,
          default: 0,
          description: 'Opening points (no-CRM mode)',
        }),
        level: Type.Optional(
          Type.String({ description: 'Opening level code; must be one of levels' }),
        ),
        balance: Type.Optional(
          Type.String({ pattern: '^\\d+(\\.\\d{1,2})?$', description: 'Opening balance in yuan' }),
        ),
      },
      { additionalProperties: false, default: { point: 0 } },
    ),
    pointExpiry: Type.Optional(PointExpiryRule),
    claimLimits: Type.Optional(ClaimLimits),
    openCardMode: Type.Optional(
      Type.Union([Type.Literal('3.1'), Type.Literal('3.0')], {
        description:
          "How Alipay opens the card. '3.1' (极速版, recommended; the console's default for new templates): Alipay calls kaguan's open-card SPI and the card opens inside Alipay, no redirect; the mini-program half-screen open-card component needs it. '3.0': the claim link sends the user to kaguan's /aliCallback, which opens the card with card.open. Absent: '3.0' (templates made before 3.1 keep it).",
      }),
    ),
  },
  { additionalProperties: false },
)
export type TemplateSpec = Static<typeof TemplateSpec>

export const TemplateCreateBody = Type.Object(
  { spec: TemplateSpec },
  { additionalProperties: false },
)
export type TemplateCreateBody = Static<typeof TemplateCreateBody>

export const TemplateView = Type.Object({
  id: Type.String(),
  merchantId: Type.String(),
  status: Type.Union([Type.Literal('draft'), Type.Literal('published'), Type.Literal('changed')], {
    description:
      'draft: never published; published: Alipay shows the draft; changed: edited since the last publish',
  }),
  spec: TemplateSpec,
  alipayTemplateId: Type.Union([Type.String(), Type.Null()]),
  revision: Type.Integer(),
  publishedRevision: Type.Union([Type.Integer(), Type.Null()]),
  publishedAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})
export type TemplateView = Static<typeof TemplateView>

export const PublishResult = Type.Object({
  template: TemplateView,
  alipayCalls: Type.Array(Type.String(), { description: 'The Alipay methods this publish called' }),
  warnings: Type.Array(Type.String()),
})
export type PublishResult = Static<typeof PublishResult>

export const ClaimLinkBody = Type.Object(
  {
    outString: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'The channel (渠道), echoed on claim',
      }),
    ),
  },
  { additionalProperties: false },
)
export type ClaimLinkBody = Static<typeof ClaimLinkBody>

export const ClaimLinkView = Type.Object({
  id: Type.String(),
  templateId: Type.String(),
  outString: Type.Union([Type.String(), Type.Null()]),
  url: Type.String(),
  qrSvgUrl: Type.String(),
  qrPngUrl: Type.String(),
  createdAt: Type.String(),
})
export type ClaimLinkView = Static<typeof ClaimLinkView>

export const ComponentBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    templateId: Type.String({ minLength: 1 }),
    outString: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
)
export type ComponentBody = Static<typeof ComponentBody>

export const ComponentView = Type.Object({
  id: Type.String(),
  merchantId: Type.String(),
  templateId: Type.String(),
  name: Type.String(),
  outString: Type.Union([Type.String(), Type.Null()]),
  publicUrl: Type.Union([Type.String(), Type.Null()], {
    description: 'What the mini-program page calls',
  }),
  createdAt: Type.String(),
})
export type ComponentView = Static<typeof ComponentView>

/** What a mini-program page gets from the public component endpoint. */
export const ComponentPublicView = Type.Object({
  componentId: Type.String(),
  template: Type.Object({
    name: Type.String(),
    displayName: Type.String(),
    logoUrl: Type.Union([Type.String(), Type.Null()]),
    backgroundUrl: Type.Union([Type.String(), Type.Null()]),
    fontColor: Type.String(),
    backgroundColor: Type.String(),
    columns: Type.Array(Type.Object({ kind: Type.String(), title: Type.String() })),
    levels: Type.Array(Type.Object({ code: Type.String(), name: Type.String() })),
    published: Type.Boolean(),
  }),
  claimUrl: Type.Union([Type.String(), Type.Null()]),
})
export type ComponentPublicView = Static<typeof ComponentPublicView>

/**
 * What the Alipay wallet would show for a template: the same mapping publishing sends, in display
 * terms, with sample values (the opening points, level and balance) in the columns.
 */
export const WalletPreview = Type.Object({
  cardShowName: Type.String(),
  logoUrl: Type.Union([Type.String(), Type.Null()]),
  backgroundUrl: Type.Union([Type.String(), Type.Null()]),
  fontColor: Type.String({ description: 'As Alipay gets it: rgb(r,g,b)' }),
  backgroundColor: Type.String({ description: 'As Alipay gets it: rgb(r,g,b)' }),
  descriptions: Type.Array(Type.String()),
  columns: Type.Array(
    Type.Object({
      code: Type.String({ description: 'POINT, LEVEL, BALANCE, TELEPHONE or CUSTOM_n' }),
      title: Type.String(),
      value: Type.Union([Type.String(), Type.Null()]),
      url: Type.Optional(Type.String({ description: 'A link column opens this page' })),
    }),
  ),
  actions: Type.Array(
    Type.Object({
      code: Type.String(),
      text: Type.String(),
      target: Type.Union([Type.Literal('url'), Type.Literal('miniProgram')]),
      showInCardList: Type.Boolean(),
    }),
  ),
  levels: Type.Array(
    Type.Object({
      code: Type.String(),
      name: Type.String(),
      description: Type.Optional(Type.String()),
    }),
  ),
  sample: Type.Object({
    point: Type.Integer(),
    level: Type.Union([Type.Object({ code: Type.String(), name: Type.String() }), Type.Null()]),
    balance: Type.Union([Type.String(), Type.Null()]),
    validDate: Type.String({ description: 'yyyy-MM-dd of a card claimed today' }),
  }),
  code: Type.Object({
    type: Type.Union(CodeTypes.map((c) => Type.Literal(c))),
    writeOffType: Type.String({ description: "Alipay's write_off_type" }),
  }),
  shops: Type.Object({
    shown: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    omitted: Type.Array(
      Type.Object({ id: Type.String(), name: Type.String(), reason: Type.String() }),
      { description: 'Chosen shops the card will not list, with why' },
    ),
  }),
  warnings: Type.Array(Type.String()),
})
export type WalletPreview = Static<typeof WalletPreview>
