import { shake256 } from '@noble/hashes/sha3.js'
import { equalBytes, utf8 } from './bytes.ts'

const jsShake256 = (data: Uint8Array): Uint8Array => shake256(data, { dkLen: 64 })
let shake256x64 = jsShake256

/** Fabric's ComputeCryptoHash: SHAKE256 with a 64-byte output. */
export function computeCryptoHash (data: Uint8Array): Uint8Array {
  return shake256x64(data)
}

/**
 * Lets a platform with a native SHAKE256 (Node's OpenSSL: a block's state hash is thousands of
 * hashes, and the JS one costs several times more) stand in for the JS one. It is taken only if
 * it gives the JS one's bytes; returns whether it was.
 */
export function useNativeShake256 (native: (data: Uint8Array) => Uint8Array): boolean {
  try {
    const probe = utf8('weft: the native SHAKE256 must match this one, byte for byte, past one block of 136 bytes '.repeat(2))
    if (!equalBytes(native(probe), jsShake256(probe))) return false
  } catch {
    return false
  }
  shake256x64 = native
  return true
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
