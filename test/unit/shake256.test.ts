import { shake256 } from '@noble/hashes/sha3.js'
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../../src/crypto/bytes.ts'
import { computeCryptoHash } from '../../src/crypto/hash.ts'
import { wasmShake256x64 } from '../../src/crypto/shake256-wasm.ts'

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff)
const reference = (data: Uint8Array): string => toHex(shake256(data, { dkLen: 64 }))

describe('SHAKE256 (64-byte output)', () => {
  const wasm = wasmShake256x64()!

  it('assembles and runs its WebAssembly module', () => {
    expect(wasm).toBeDefined()
    // SHAKE256 of the empty message, 512 bits (NIST's example value).
    expect(toHex(wasm(new Uint8Array(0)))).toBe('46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762fd75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be')
  })

  it('gives the JS hash\'s bytes at every length around the rate (136) and its padding cases', () => {
    for (let n = 0; n <= 3 * 136 + 2; n++) expect(toHex(wasm(bytes(n, n))), `length ${n}`).toBe(reference(bytes(n, n)))
  })

  it('gives the same bytes across the inputs it takes in pieces (past 64 KiB) and for views into larger buffers', () => {
    for (const n of [64_871, 64_872, 64_873, 64_872 + 136, 200_000]) expect(toHex(wasm(bytes(n, 1))), `length ${n}`).toBe(reference(bytes(n, 1)))
    const big = bytes(1000, 3)
    expect(toHex(wasm(big.subarray(17, 500)))).toBe(reference(big.subarray(17, 500)))
  })

  it('returns a fresh array each call, not a view of its memory', () => {
    const first = wasm(utf8('a'))
    const copy = first.slice()
    wasm(utf8('b'))
    expect(first).toEqual(copy)
    expect(first.buffer.byteLength).toBe(64)
  })

  it('computeCryptoHash gives Node\'s OpenSSL bytes for small and large inputs', () => {
    for (const n of [0, 1, 135, 136, 320, 2047, 2048, 70_000]) {
      const data = bytes(n, 5)
      expect(toHex(computeCryptoHash(data)), `length ${n}`).toBe(createHash('shake256', { outputLength: 64 }).update(data).digest('hex'))
    }
  })
})
