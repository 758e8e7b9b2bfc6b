import { describe, expect, it } from 'vitest'
import { errorMessage } from '../../src/util/errors.ts'

describe('errorMessage', () => {
  it('never says "undefined" for what transports throw', () => {
    expect(errorMessage(new Error('refused'))).toBe('refused')
    expect(errorMessage(new TypeError(''))).toBe('TypeError')
    expect(errorMessage(new AggregateError([new Error('ECONNREFUSED 127.0.0.1:1'), new Error('ECONNREFUSED 127.0.0.1:1'), new Error('timeout')], ''))).toBe('ECONNREFUSED 127.0.0.1:1; timeout')
    expect(errorMessage({ code: 14, details: 'No connection established' })).toBe('No connection established')
    expect(errorMessage({ type: 'error' })).toBe('error event')
    expect(errorMessage({ code: 'ENOENT' })).toBe('code ENOENT')
    expect(errorMessage('plain text')).toBe('plain text')
    expect(errorMessage(undefined)).toBe('no reason given')
  })
})
