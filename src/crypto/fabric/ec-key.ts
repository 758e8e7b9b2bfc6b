import { randomBytes } from '@noble/hashes/utils.js'
import { type CurveName, curveByteLength, curveImpl, curveOrder } from './suite.ts'

/** An EC public key: its curve and its uncompressed point (0x04 || X || Y). */
export interface EcPublicKey {
  readonly curve: CurveName
  readonly point: Uint8Array
}

/** An EC private key with its public half. */
export interface EcPrivateKey {
  readonly curve: CurveName
  readonly d: bigint
  readonly publicKey: EcPublicKey
}

/** Where key generation, IVs and ephemeral keys draw their bytes; injectable for tests. */
export type RandomBytes = (n: number) => Uint8Array

export const cryptoRandomBytes: RandomBytes = (n) => randomBytes(n)

export function bigIntFromBytes (b: Uint8Array): bigint {
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  return v
}

/** Big-endian, left-padded to `len` bytes (or minimal when len is 0, as Go's big.Int Bytes). */
export function bigIntToBytes (v: bigint, len = 0): Uint8Array {
  if (v < 0n) throw new Error('negative integer')
  let hex = v.toString(16)
  if (hex.length % 2 === 1) hex = '0' + hex
  if (v === 0n) hex = ''
  const n = Math.max(len, hex.length / 2)
  const out = new Uint8Array(n)
  for (let i = 0; i < hex.length / 2; i++) out[n - hex.length / 2 + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

export function publicKeyFromPoint (curve: CurveName, point: Uint8Array): EcPublicKey {
  // fromBytes checks the point is on the curve
  const p = curveImpl(curve).Point.fromBytes(point)
  return { curve, point: p.toBytes(false) }
}

export function privateKeyFromScalar (curve: CurveName, d: bigint): EcPrivateKey {
  const n = curveOrder(curve)
  if (d <= 0n || d >= n) throw new Error('invalid private key scalar')
  const point = curveImpl(curve).Point.BASE.multiply(d).toBytes(false)
  return { curve, d, publicKey: { curve, point } }
}

/** A fresh key pair on the curve (primitives.NewECDSAKey). */
export function generateEcKey (curve: CurveName, random: RandomBytes = cryptoRandomBytes): EcPrivateKey {
  const n = curveOrder(curve)
  // as Go's ecdsa.GenerateKey: 8 extra bytes, then reduce into [1, n-1]
  const k = bigIntFromBytes(random(curveByteLength(curve) + 8))
  return privateKeyFromScalar(curve, (k % (n - 1n)) + 1n)
}

/** The private scalar as fixed-width bytes. */
export function privateKeyBytes (key: EcPrivateKey): Uint8Array {
  return bigIntToBytes(key.d, curveByteLength(key.curve))
}

export function samePublicKey (a: EcPublicKey, b: EcPublicKey): boolean {
  if (a.curve !== b.curve || a.point.length !== b.point.length) return false
  for (let i = 0; i < a.point.length; i++) if (a.point[i] !== b.point[i]) return false
  return true
}
