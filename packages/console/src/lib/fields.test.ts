import { describe, expect, it } from 'vitest'
import { formFieldPath, placeProblems } from './fields.js'

describe('formFieldPath', () => {
  it('drops the request context and the spec wrapper and makes indexes numbers', () => {
    expect(formFieldPath('body.spec.levels.0.code')).toEqual(['levels', 0, 'code'])
    expect(formFieldPath('basic.shopIds')).toEqual(['basic', 'shopIds'])
    expect(formFieldPath('body.appId')).toEqual(['appId'])
    expect(formFieldPath('actions[1].showInCardBag')).toEqual(['actions', 1, 'showInCardBag'])
  })

  it('keeps a lone context word, which is then no form field', () => {
    expect(formFieldPath('querystring')).toEqual(['querystring'])
  })
})

describe('placeProblems', () => {
  const known = (p: (string | number)[]) =>
    ['["levels"]', '["appId"]', '["levels",0,"code"]'].includes(JSON.stringify(p))

  it('puts each problem on the deepest field the form has and merges messages per field', () => {
    const { placed, unplaced } = placeProblems(
      [
        { field: 'body.spec.levels.0.code', message: 'bad code' },
        { field: 'body.spec.levels.3.name', message: 'too long' },
        { field: 'body.appId', message: 'must be 16 digits' },
        { field: 'levels.3.description', message: 'too long 2' },
      ],
      known,
    )
    expect(placed).toEqual([
      { name: ['levels', 0, 'code'], errors: ['bad code'] },
      { name: ['levels'], errors: ['too long', 'too long 2'] },
      { name: ['appId'], errors: ['must be 16 digits'] },
    ])
    expect(unplaced).toEqual([])
  })

  it('returns what no field holds for the message at the top', () => {
    const { placed, unplaced } = placeProblems(
      [{ field: 'querystring', message: 'give mobile' }],
      known,
    )
    expect(placed).toEqual([])
    expect(unplaced).toEqual([{ field: 'querystring', message: 'give mobile' }])
  })
})
