import { shake256 } from '@noble/hashes/sha3.js'

/** Fabric's ComputeCryptoHash: SHAKE256 with a 64-byte output. */
export function computeCryptoHash (data: Uint8Array): Uint8Array {
  return shake256(data, { dkLen: 64 })
}

/** 32-bit FNV-1a, as Go's hash/fnv New32a (the bucket tree places keys with it). */
export function fnv1a32 (data: Uint8Array): number {
  let h = 0x811c9dc5
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}
