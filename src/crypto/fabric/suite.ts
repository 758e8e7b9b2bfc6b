import { p256, p384 } from '@noble/curves/nist.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256, sha384 } from '@noble/hashes/sha2.js'
import { sha3_256, sha3_384 } from '@noble/hashes/sha3.js'
import type { CHash } from '@noble/hashes/utils.js'

export type CurveName = 'P-256' | 'P-384'
export type HashAlgorithm = 'SHA2' | 'SHA3'
export type SecurityLevel = 256 | 384

/** Fabric's AES key size: 32 bytes, whatever the security level. */
export const AES_KEY_LENGTH = 32
/** Fabric's nonce size (primitives.NonceSize). */
export const NONCE_SIZE = 24

/**
 * What primitives.InitSecurityLevel fixes for a node: the curve of every key it makes and the
 * hash its signatures, HMACs and key derivations use.
 */
export interface CryptoSuite {
  readonly level: SecurityLevel
  readonly hashAlgorithm: HashAlgorithm
  readonly curve: CurveName
  /** The noble hash (usable with noble's hmac/hkdf). */
  readonly hashFn: CHash
  /** Output size of the hash in bytes. */
  readonly hashSize: number
  hash: (msg: Uint8Array) => Uint8Array
  hmac: (key: Uint8Array, msg: Uint8Array) => Uint8Array
  /** HMAC cut to its first `n` bytes (primitives.HMACTruncated). */
  hmacTruncated: (key: Uint8Array, msg: Uint8Array, n: number) => Uint8Array
  /** HMAC cut to an AES key (primitives.HMACAESTruncated). */
  hmacAESTruncated: (key: Uint8Array, msg: Uint8Array) => Uint8Array
}

const hashes: Record<HashAlgorithm, Record<SecurityLevel, CHash>> = {
  SHA2: { 256: sha256, 384: sha384 },
  SHA3: { 256: sha3_256, 384: sha3_384 }
}

/**
 * The suite for security.hashAlgorithm and security.level, with Fabric's refusals for anything
 * else (the same wording primitives.SetSecurityLevel gives).
 */
export function cryptoSuite (hashAlgorithm: string, level: number): CryptoSuite {
  const alg = hashAlgorithm.toUpperCase()
  if (alg !== 'SHA2' && alg !== 'SHA3') throw new Error(`Algorithm not supported [${hashAlgorithm}]`)
  if (level !== 256 && level !== 384) throw new Error(`Security level not supported [${level}]`)
  const hashFn = hashes[alg][level]
  const hmacOf = (key: Uint8Array, msg: Uint8Array): Uint8Array => hmac(hashFn, key, msg)
  return {
    level,
    hashAlgorithm: alg,
    curve: level === 256 ? 'P-256' : 'P-384',
    hashFn,
    hashSize: hashFn.outputLen,
    hash: (msg) => hashFn(msg),
    hmac: hmacOf,
    hmacTruncated: (key, msg, n) => hmacOf(key, msg).slice(0, n),
    hmacAESTruncated: (key, msg) => hmacOf(key, msg).slice(0, AES_KEY_LENGTH)
  }
}

/** The noble curve behind a curve name. */
export function curveImpl (curve: CurveName): typeof p256 {
  return curve === 'P-256' ? p256 : p384
}

/** Group order n of the curve. */
export function curveOrder (curve: CurveName): bigint {
  return curveImpl(curve).Point.Fn.ORDER
}

/** Byte length of a scalar or coordinate: (bitSize+7)/8. */
export function curveByteLength (curve: CurveName): number {
  return curve === 'P-256' ? 32 : 48
}
