import { varintSize, writeVarint } from './varint.ts'

/**
 * Keys of the bucket tree in the state column, as Fabric lays them out:
 * a data node is orderPreservingVarUint64(bucket) + compositeKey; a bucket node is
 * 0x00 varint(level) varint(bucket), so all bucket nodes sort before all data.
 */
export function encodeBucketNumber (n: number): Uint8Array {
  const be = new Uint8Array(8)
  new DataView(be.buffer).setBigUint64(0, BigInt(n))
  let start = 0
  while (start < 8 && be[start] === 0) start++
  const out = new Uint8Array(1 + 8 - start)
  out[0] = 8 - start
  out.set(be.subarray(start), 1)
  return out
}

export function decodeBucketNumber (b: Uint8Array): { bucket: number, length: number } {
  const size = b[0]
  if (size === undefined || size > 8 || b.length < size + 1) throw new Error('malformed bucket number in state key')
  let n = 0
  for (let i = 1; i <= size; i++) n = n * 256 + b[i]
  return { bucket: n, length: size + 1 }
}

export function dataNodeKey (bucket: number, composite: Uint8Array): Uint8Array {
  const prefix = encodeBucketNumber(bucket)
  const out = new Uint8Array(prefix.length + composite.length)
  out.set(prefix, 0)
  out.set(composite, prefix.length)
  return out
}

export function bucketNodeKey (level: number, bucket: number): Uint8Array {
  const out = new Uint8Array(1 + varintSize(level) + varintSize(bucket))
  writeVarint(out, writeVarint(out, 1, level), bucket)
  return out
}
