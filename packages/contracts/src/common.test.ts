import { describe, expect, it } from 'vitest'
import { Value } from '@sinclair/typebox/value'
import { ErrorBody } from './common.js'

describe('ErrorBody', () => {
  it('accepts an error with a code and message and rejects one without a code', () => {
    expect(Value.Check(ErrorBody, { errcode: 'X', message: 'm' })).toBe(true)
    expect(Value.Check(ErrorBody, { message: 'm' })).toBe(false)
  })
})
