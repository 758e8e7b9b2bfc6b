import { describe, expect, it } from 'vitest'
import { fromUtf8, utf8, utf8Length, writeUtf8 } from '../../src/crypto/bytes.ts'

const samples = ['', 'a', 'invoke', 'x'.repeat(64), 'x'.repeat(65), '\u007f', 'caf\u00e9', '\u{1f600}', 'a\ud800b', 'x'.repeat(63) + '\u00e9', '\u0000\u0001', 'ab\udc00', 'k\u00e9y\u{1f600}z']

describe('utf8', () => {
  it('encodes exactly as TextEncoder, on its ASCII copy and on the rest', () => {
    const encoder = new TextEncoder()
    for (const s of samples) {
      expect(utf8(s)).toEqual(encoder.encode(s))
      expect(utf8(s)).toBeInstanceOf(Uint8Array)
    }
    expect(fromUtf8(utf8('caf\u00e9 \u{1f600}'))).toBe('caf\u00e9 \u{1f600}')
  })

  it('writeUtf8 puts exactly utf8Length(s) bytes of utf8(s) at an offset, and nothing around them', () => {
    for (const s of samples) {
      const n = utf8Length(s)
      expect(n).toBe(utf8(s).length)
      const out = new Uint8Array(n + 4).fill(0xaa)
      expect(writeUtf8(out, 2, s)).toBe(2 + n)
      expect(out.subarray(2, 2 + n)).toEqual(utf8(s))
      expect([...out.subarray(0, 2), ...out.subarray(2 + n)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa])
    }
  })
})
