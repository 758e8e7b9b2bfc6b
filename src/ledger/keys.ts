import { utf8Length, writeUtf8 } from '../crypto/bytes.ts'

/** chaincodeID 0x00 key: how Fabric names a chaincode's key in the world state (thousands a block: one allocation each). */
export function compositeKey (chaincodeID: string, key: string): Uint8Array {
  const out = new Uint8Array(utf8Length(chaincodeID) + 1 + utf8Length(key))
  writeUtf8(out, writeUtf8(out, 0, chaincodeID) + 1, key)
  return out
}

/** Splits a composite key at its first 0x00. */
export function splitCompositeKey (composite: Uint8Array): [Uint8Array, Uint8Array] {
  const i = composite.indexOf(0)
  if (i < 0) throw new Error('composite state key without separator')
  return [composite.subarray(0, i), composite.subarray(i + 1)]
}

/**
 * Go's string order: byte order of the UTF-8 encoding, which is code point order. UTF-16
 * code unit order agrees except where a surrogate (a code point ≥ U+10000) meets a unit
 * ≥ U+E000, so only that case needs care.
 */
export function compareStrings (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs !== ys && (xs ? y : x) >= 0xe000) return xs ? 1 : -1
    return x - y
  }
  return a.length - b.length
}

export function sortedStrings (values: Iterable<string>): string[] {
  return [...values].sort(compareStrings)
}

/** 8-byte big-endian, Fabric's key for block numbers and deltas. */
export function encodeUint64 (n: number | bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

export function decodeUint64 (b: Uint8Array): bigint {
  if (b.length !== 8) throw new Error(`expected 8 bytes for a uint64, got ${b.length}`)
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0)
}
