import type { ByteArena } from '../byte-arena.ts'
import { varintSize, writeVarint } from '../../util/varint.ts'

/**
 * Keys of the bucket tree in the state column, as Fabric lays them out:
 * a data node is orderPreservingVarUint64(bucket) + compositeKey; a bucket node is
 * 0x00 varint(level) varint(bucket), so all bucket nodes sort before all data.
 * `prefix`, when given, is the column's byte put in front: the store's key made in one go
 * (a block writes thousands of these), in `arena` when given.
 */
export function encodeBucketNumber (n: number): Uint8Array {
  const out = new Uint8Array(bucketNumberSize(n))
  writeBucketNumber(out, 0, n)
  return out
}

export function decodeBucketNumber (b: Uint8Array): { bucket: number, length: number } {
  const size = b[0]
  if (size === undefined || size > 8 || b.length < size + 1) throw new Error('malformed bucket number in state key')
  let n = 0
  for (let i = 1; i <= size; i++) n = n * 256 + b[i]
  return { bucket: n, length: size + 1 }
}

export function dataNodeKey (bucket: number, composite: Uint8Array, prefix?: number, arena?: ByteArena): Uint8Array {
  const start = prefix === undefined ? 0 : 1
  const size = bucketNumberSize(bucket)
  const length = start + size + composite.length
  const out = arena?.take(length) ?? new Uint8Array(length)
  if (prefix !== undefined) out[0] = prefix
  writeBucketNumber(out, start, bucket)
  out.set(composite, start + size)
  return out
}

export function bucketNodeKey (level: number, bucket: number, prefix?: number, arena?: ByteArena): Uint8Array {
  const start = prefix === undefined ? 0 : 1
  const length = start + 1 + varintSize(level) + varintSize(bucket)
  const out = arena?.take(length) ?? new Uint8Array(length)
  if (prefix !== undefined) out[0] = prefix
  writeVarint(out, writeVarint(out, start + 1, level), bucket)
  return out
}

/** Bytes of orderPreservingVarUint64: a length byte, then the number big-endian without leading zeros. */
function bucketNumberSize (n: number): number {
  let size = 1
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) size++
  return size
}

function writeBucketNumber (out: Uint8Array, at: number, n: number): void {
  const size = bucketNumberSize(n) - 1
  out[at] = size
  for (let i = size, rest = n; i >= 1; i--, rest = Math.floor(rest / 256)) out[at + i] = rest % 256
}
