import { describe, expect, it } from 'vitest'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'

describe('utf8', () => {
  it('encodes exactly as TextEncoder, on its ASCII copy and on the rest', () => {
    const encoder = new TextEncoder()
    const samples = ['', 'a', 'invoke', 'x'.repeat(64), 'x'.repeat(65), '\u007f', 'caf\u00e9', '\u{1f600}', 'a\ud800b', 'x'.repeat(63) + '\u00e9', '\u0000\u0001']
    for (const s of samples) {
      expect(utf8(s)).toEqual(encoder.encode(s))
      expect(utf8(s)).toBeInstanceOf(Uint8Array)
    }
    expect(fromUtf8(utf8('caf\u00e9 \u{1f600}'))).toBe('caf\u00e9 \u{1f600}')
  })
})
