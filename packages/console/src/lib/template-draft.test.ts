import type { TemplateSpec } from '@kaguan/contracts'
import { describe, expect, it } from 'vitest'
import { draftFromSpec, draftProblems, newDraft, specFromDraft } from './template-draft.js'

const spec: TemplateSpec = {
  basic: { name: '测试会员卡', validity: { type: 'permanent' }, shopIds: [] },
  style: {
    logoImageId: 'img_1',
    backgroundImageId: 'img_2',
    fontColor: '#FFFFFF',
    backgroundColor: '#333333',
    code: { type: 'qr' },
  },
  columns: [{ kind: 'point', title: '积分' }],
  levels: [
    { code: 'SILVER', name: '银卡' },
    { code: 'GOLD', name: '金卡' },
  ],
  actions: [],
  form: {
    fields: [
      { field: 'mobile', required: true },
      { field: 'gender', required: false },
    ],
  },
  defaults: { point: 10, level: 'SILVER' },
}

describe('draft ⇄ spec', () => {
  it('round-trips a spec through the editor unchanged', () => {
    expect(specFromDraft(draftFromSpec(spec))).toEqual(spec)
  })

  it('turns the per-field choices into the form list in the canonical order', () => {
    const draft = draftFromSpec(spec)
    expect(draft.formFields.mobile).toBe('required')
    expect(draft.formFields.gender).toBe('optional')
    expect(draft.formFields.email).toBe('off')
    draft.formFields.name = 'required'
    expect(specFromDraft(draft).form.fields).toEqual([
      { field: 'mobile', required: true },
      { field: 'name', required: true },
      { field: 'gender', required: false },
    ])
  })

  it('drops empty optional text and keeps refreshSeconds only for dynamic codes', () => {
    const draft = draftFromSpec(spec)
    draft.style.displayName = ' '
    draft.basic.servicePhone = ''
    draft.defaults.level = ''
    draft.style.code = { type: 'qr', refreshSeconds: 30 }
    const out = specFromDraft(draft)
    expect(out.style).not.toHaveProperty('displayName')
    expect(out.basic).not.toHaveProperty('servicePhone')
    expect(out.defaults).toEqual({ point: 10 })
    expect(out.style.code).toEqual({ type: 'qr' })
    draft.style.code = { type: 'dynamicQr' }
    expect(specFromDraft(draft).style.code).toEqual({ type: 'dynamicQr', refreshSeconds: 60 })
  })
})

describe('specFromDraft keeps only what belongs to the chosen kind', () => {
  it('drops hidden values of validity, columns and action targets', () => {
    const draft = draftFromSpec(spec)
    draft.basic.validity = { type: 'permanent', endDate: '2030-01-01', days: 3 } as never
    draft.columns = [
      { kind: 'point', title: '积分', value: 'x', url: 'y' } as never,
      { kind: 'link', title: '权益', url: 'https://x', value: 'left over' } as never,
    ]
    draft.actions = [
      {
        code: 'a',
        text: '去',
        target: { kind: 'url', url: 'https://x', appId: '2021000000000001', page: '' } as never,
      } as never,
      {
        code: 'b',
        text: '小程序',
        target: {
          kind: 'miniProgram',
          appId: '2021000000000001',
          page: 'pages/a',
          query: '',
          url: 'u',
        } as never,
        showInCardBag: true,
      },
    ]
    const out = specFromDraft(draft)
    expect(out.basic.validity).toEqual({ type: 'permanent' })
    expect(out.columns).toEqual([
      { kind: 'point', title: '积分' },
      { kind: 'link', title: '权益', url: 'https://x' },
    ])
    expect(out.actions).toEqual([
      { code: 'a', text: '去', target: { kind: 'url', url: 'https://x' }, showInCardBag: false },
      {
        code: 'b',
        text: '小程序',
        target: { kind: 'miniProgram', appId: '2021000000000001', page: 'pages/a' },
        showInCardBag: true,
      },
    ])
  })
})

describe('draftProblems', () => {
  it('finds nothing wrong with a good draft', () => {
    expect(draftProblems(draftFromSpec(spec))).toEqual([])
  })

  it('names each broken rule at its field', () => {
    const draft = newDraft()
    draft.formFields.mobile = 'optional'
    draft.defaults.level = 'VIP'
    draft.levels = [
      { code: 'A', name: 'a' },
      { code: 'A', name: 'b' },
    ]
    draft.columns = []
    draft.actions = [
      { code: 'x', text: '去', target: { kind: 'url', url: 'https://x' }, showInCardBag: true },
    ]
    expect(draftProblems(draft).map((p) => [p.name.join('.'), p.key])).toEqual([
      ['actions', 'templates.rules.cardBagActions'],
      ['actions.0.showInCardBag', 'templates.rules.cardBagMiniProgram'],
      ['formFields', 'templates.rules.requiredField'],
      ['defaults.level', 'templates.rules.defaultLevel'],
      ['levels', 'templates.rules.duplicateLevel'],
      ['columns', 'templates.rules.noColumns'],
    ])
  })

  it('accepts exactly two mini-program actions in the card bag', () => {
    const draft = draftFromSpec(spec)
    const action = {
      code: 'x',
      text: '去',
      target: { kind: 'miniProgram' as const, appId: '2021000000000001' },
      showInCardBag: true,
    }
    draft.actions = [action, { ...action, code: 'y' }]
    expect(draftProblems(draft)).toEqual([])
  })
})

describe('claim limits in the editor', () => {
  it('drops cleared limits and gives a window a day when only the count is set', () => {
    const draft = draftFromSpec(spec)
    draft.claimLimits = {
      perUser: null as never,
      perDevice: { max: 2, windowMinutes: null as never },
      perIp: { max: null as never, windowMinutes: 30 },
      perDay: 500,
    }
    expect(specFromDraft(draft).claimLimits).toEqual({
      perDevice: { max: 2, windowMinutes: 1440 },
      perDay: 500,
    })
  })

  it('leaves claimLimits out of the spec when every limit is empty', () => {
    const draft = draftFromSpec(spec)
    draft.claimLimits = { perUser: null as never }
    expect('claimLimits' in specFromDraft(draft)).toBe(false)
  })
})
