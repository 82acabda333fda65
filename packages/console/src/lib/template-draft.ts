import { FormFields, type ClaimLimits, type FormField, type TemplateSpec } from '@kaguan/contracts'
import type { FieldPath } from './fields.js'

/** Whether the open-card form asks for a field, and whether the customer must give it. */
export type FieldChoice = 'off' | 'optional' | 'required'

/**
 * A template as the editor holds it: the spec, except that the open-card form is one choice per
 * field (the spec's list of `{ field, required }` in the order of {@link FormFields}).
 */
export type TemplateDraft = Omit<TemplateSpec, 'form'> & {
  formFields: Record<FormField, FieldChoice>
}

/** What a new template starts from: the seed's usual card (points and level shown, mobile asked). */
export function newDraft(): TemplateDraft {
  return {
    basic: { name: '', validity: { type: 'permanent' }, shopIds: [] },
    style: {
      logoImageId: '',
      backgroundImageId: '',
      fontColor: '#ffffff',
      backgroundColor: '#1f4e8c',
      code: { type: 'qr' },
    },
    columns: [
      { kind: 'point', title: '积分' },
      { kind: 'level', title: '等级' },
    ],
    levels: [],
    actions: [],
    formFields: Object.fromEntries(
      FormFields.map((f) => [f, f === 'mobile' ? 'required' : 'off']),
    ) as Record<FormField, FieldChoice>,
    defaults: { point: 0 },
    // 3.1 极速版 is what Alipay recommends for new templates; existing ones keep theirs.
    openCardMode: '3.1',
  }
}

export function draftFromSpec(spec: TemplateSpec): TemplateDraft {
  const { form, ...rest } = spec
  const formFields = Object.fromEntries(FormFields.map((f) => [f, 'off'])) as Record<
    FormField,
    FieldChoice
  >
  for (const f of form.fields) {
    formFields[f.field] = f.required ? 'required' : 'optional'
  }
  return { ...rest, formFields }
}

/** Drops empty optional strings so the API does not refuse `""` where it wants a value or nothing. */
function optional<T extends string | undefined>(value: T): T | undefined {
  return typeof value === 'string' && value.trim() === '' ? undefined : value
}

export function specFromDraft(draft: TemplateDraft): TemplateSpec {
  const { formFields, ...rest } = draft
  const style = { ...rest.style }
  const displayName = optional(style.displayName)
  if (displayName === undefined) {
    delete style.displayName
  }
  const dynamic = style.code.type === 'dynamicQr' || style.code.type === 'dynamicBarcode'
  style.code = dynamic
    ? { type: style.code.type, refreshSeconds: style.code.refreshSeconds ?? 60 }
    : { type: style.code.type }
  const basic = {
    ...rest.basic,
    validity: cleanValidity(rest.basic.validity),
    shopIds: rest.basic.shopIds ?? [],
  }
  for (const key of ['servicePhone', 'description'] as const) {
    if (optional(basic[key]) === undefined) {
      delete basic[key]
    }
  }
  delete rest.claimLimits
  const claimLimits = cleanClaimLimits(draft.claimLimits)
  const defaults = { ...rest.defaults, point: rest.defaults?.point ?? 0 }
  if (optional(defaults.level) === undefined) {
    delete defaults.level
  }
  if (optional(defaults.balance) === undefined) {
    delete defaults.balance
  }
  return {
    ...rest,
    basic,
    style,
    columns: (rest.columns ?? []).map(cleanColumn),
    levels: (rest.levels ?? []).map((l) =>
      optional(l.description) === undefined ? { code: l.code, name: l.name } : l,
    ),
    actions: (rest.actions ?? []).map(cleanAction),
    defaults,
    ...(claimLimits ? { claimLimits } : {}),
    form: {
      fields: FormFields.filter((f) => formFields[f] !== 'off').map((f) => ({
        field: f,
        required: formFields[f] === 'required',
      })),
    },
  }
}

type Validity = TemplateSpec['basic']['validity']
type Column = TemplateSpec['columns'][number]
type Action = TemplateSpec['actions'][number]

// The form keeps the values of fields it hid (an end date after switching to permanent); the
// API refuses properties that do not belong to the chosen kind, so only those are sent.
function cleanValidity(v: Validity): Validity {
  switch (v.type) {
    case 'fixedEnd':
      return { type: 'fixedEnd', endDate: v.endDate }
    case 'afterClaim':
      return { type: 'afterClaim', days: v.days }
    default:
      return { type: 'permanent' }
  }
}

function cleanColumn(c: Column): Column {
  switch (c.kind) {
    case 'text':
      return { kind: 'text', title: c.title, value: c.value ?? '' }
    case 'link':
      return { kind: 'link', title: c.title, url: c.url }
    default:
      return { kind: c.kind, title: c.title }
  }
}

function cleanAction(a: Action): Action {
  const t = a.target
  const target: Action['target'] =
    t.kind === 'miniProgram'
      ? {
          kind: 'miniProgram',
          appId: t.appId,
          ...(optional(t.page) !== undefined ? { page: t.page } : {}),
          ...(optional(t.query) !== undefined ? { query: t.query } : {}),
        }
      : { kind: 'url', url: t.url }
  return { code: a.code, text: a.text, target, showInCardBag: a.showInCardBag ?? false }
}

/** A rule of Alipay's or kaguan's the draft breaks, as an i18n key, at the field to mark. */
export interface DraftProblem {
  name: FieldPath
  key: string
}

/**
 * The rules the form can check before the server does (the server checks them again): Alipay
 * wants 0 or 2 actions in the card bag, at least one required form field, and the opening level
 * must be one of the levels.
 */
export function draftProblems(draft: TemplateDraft): DraftProblem[] {
  const problems: DraftProblem[] = []
  const inBag = (draft.actions ?? []).filter((a) => a?.showInCardBag).length
  if (inBag !== 0 && inBag !== 2) {
    problems.push({ name: ['actions'], key: 'templates.rules.cardBagActions' })
  }
  ;(draft.actions ?? []).forEach((a, i) => {
    if (a?.showInCardBag && a.target?.kind !== 'miniProgram') {
      problems.push({
        name: ['actions', i, 'showInCardBag'],
        key: 'templates.rules.cardBagMiniProgram',
      })
    }
  })
  if (!Object.values(draft.formFields ?? {}).includes('required')) {
    problems.push({ name: ['formFields'], key: 'templates.rules.requiredField' })
  }
  const level = draft.defaults?.level
  if (level && !(draft.levels ?? []).some((l) => l?.code === level)) {
    problems.push({ name: ['defaults', 'level'], key: 'templates.rules.defaultLevel' })
  }
  const codes = (draft.levels ?? []).map((l) => l?.code).filter(Boolean)
  if (new Set(codes).size !== codes.length) {
    problems.push({ name: ['levels'], key: 'templates.rules.duplicateLevel' })
  }
  if (!(draft.columns ?? []).length) {
    problems.push({ name: ['columns'], key: 'templates.rules.noColumns' })
  }
  return problems
}

/** A window of the claim limits when the editor has its most: a day unless the window is given. */
const DEFAULT_WINDOW_MINUTES = 24 * 60

/**
 * The claim limits the editor holds, without the empty ones (a cleared number is `null`): a
 * limit with no count is no limit, and no limit at all leaves `claimLimits` out of the spec.
 */
export function cleanClaimLimits(
  limits: Partial<ClaimLimits> | undefined,
): ClaimLimits | undefined {
  const count = (n: number | null | undefined) => (typeof n === 'number' ? n : undefined)
  const window = (w: { max?: number | null; windowMinutes?: number | null } | undefined) => {
    const max = count(w?.max)
    return max === undefined
      ? undefined
      : { max, windowMinutes: count(w?.windowMinutes) ?? DEFAULT_WINDOW_MINUTES }
  }
  const clean: ClaimLimits = {
    perUser: count(limits?.perUser),
    perDevice: window(limits?.perDevice),
    perIp: window(limits?.perIp),
    perDay: count(limits?.perDay),
  }
  for (const key of Object.keys(clean) as (keyof ClaimLimits)[]) {
    if (clean[key] === undefined) {
      delete clean[key]
    }
  }
  return Object.keys(clean).length > 0 ? clean : undefined
}
