import { shake256 } from '@noble/hashes/sha3.js'
import { equalBytes, utf8 } from './bytes.ts'
import { wasmShake256x64 } from './shake256-wasm.ts'

type Shake256x64 = (data: Uint8Array) => Uint8Array

const jsShake256: Shake256x64 = data => shake256(data, { dkLen: 64 })
/**
 * Below this many bytes the WebAssembly hash beats even a native one, whose every call costs
 * as much as several permutations (a block's state hash is thousands of inputs of a few
 * hundred bytes); past it, a native one's faster permutation wins.
 */
const wasmBelow = 2048
const wasmShake256 = checked(wasmShake256x64())
/** For inputs of any size: a native hash if the platform gave one, else the WebAssembly one, else JS. */
let wholeShake256 = wasmShake256 ?? jsShake256

/** Fabric's ComputeCryptoHash: SHAKE256 with a 64-byte output. */
export function computeCryptoHash (data: Uint8Array): Uint8Array {
  return wasmShake256 !== undefined && data.length < wasmBelow ? wasmShake256(data) : wholeShake256(data)
}

/**
 * Lets a platform with a native SHAKE256 (Node's OpenSSL) stand in for large inputs, and for
 * all of them where WebAssembly is missing. It is taken only if it gives the JS one's bytes;
 * returns whether it was.
 */
export function useNativeShake256 (native: Shake256x64): boolean {
  if (checked(native) === undefined) return false
  wholeShake256 = native
  return true
}

/** `hash` if it gives the JS one's bytes on a probe past one block of 136 bytes. */
function checked (hash: Shake256x64 | undefined): Shake256x64 | undefined {
  if (hash === undefined) return undefined
  try {
    const probe = utf8('weft: this SHAKE256 must match the JS one, byte for byte, past one block of 136 bytes '.repeat(2))
    return equalBytes(hash(probe), jsShake256(probe)) ? hash : undefined
  } catch {
    return undefined
  }
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
