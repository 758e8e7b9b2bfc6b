import { type EcPrivateKey, type EcPublicKey, bigIntFromBytes, bigIntToBytes, privateKeyBytes } from './ec-key.ts'
import { readTlv } from './der.ts'
import { type CryptoSuite, curveImpl, curveOrder } from './suite.ts'

/** An ECDSA signature as its two integers (Fabric's ECDSASignature / the R, S of membersrvc's Signature). */
export interface EcdsaSignature {
  readonly r: bigint
  readonly s: bigint
}

// Go's ecdsa.Sign neither normalises S nor does Verify reject a high S.
const opts = { prehash: false, lowS: false } as const

/** Signs a digest as is (the caller hashed it; a digest longer than the order is cut as Go does). */
export function ecdsaSignDigest (key: EcPrivateKey, digest: Uint8Array): EcdsaSignature {
  const sig = curveImpl(key.curve).Signature.fromBytes(
    curveImpl(key.curve).sign(digest, privateKeyBytes(key), { ...opts, format: 'compact' }), 'compact')
  return { r: sig.r, s: sig.s }
}

export function ecdsaVerifyDigest (pub: EcPublicKey, digest: Uint8Array, sig: EcdsaSignature): boolean {
  const n = curveOrder(pub.curve)
  if (sig.r <= 0n || sig.s <= 0n || sig.r >= n || sig.s >= n) return false
  const c = curveImpl(pub.curve)
  try {
    return c.verify(new c.Signature(sig.r, sig.s).toBytes('compact'), digest, pub.point, { ...opts, format: 'compact' })
  } catch {
    return false
  }
}

/** primitives.ECDSASignDirect: hash with the suite's hash, sign, return R and S. */
export function ecdsaSignDirect (suite: CryptoSuite, key: EcPrivateKey, msg: Uint8Array): EcdsaSignature {
  return ecdsaSignDigest(key, suite.hash(msg))
}

/** primitives.ECDSASign: as ecdsaSignDirect, DER-encoded as Go's asn1 SEQUENCE { R, S }. */
export function ecdsaSign (suite: CryptoSuite, key: EcPrivateKey, msg: Uint8Array): Uint8Array {
  return encodeEcdsaSignature(ecdsaSignDirect(suite, key, msg))
}

/** primitives.ECDSAVerify: false for a signature that does not parse, as Fabric. */
export function ecdsaVerify (suite: CryptoSuite, pub: EcPublicKey, msg: Uint8Array, signature: Uint8Array): boolean {
  let sig: EcdsaSignature
  try {
    sig = decodeEcdsaSignature(signature)
  } catch {
    return false
  }
  return ecdsaVerifyDigest(pub, suite.hash(msg), sig)
}

function derInteger (v: bigint): Uint8Array {
  let b = bigIntToBytes(v)
  if (b.length === 0) b = new Uint8Array([0])
  if ((b[0] & 0x80) !== 0) b = Uint8Array.from([0, ...b])
  return Uint8Array.from([0x02, ...derLength(b.length), ...b])
}

function derLength (n: number): number[] {
  if (n < 0x80) return [n]
  const out: number[] = []
  for (let v = n; v > 0; v >>= 8) out.unshift(v & 0xff)
  return [0x80 | out.length, ...out]
}

export function encodeEcdsaSignature (sig: EcdsaSignature): Uint8Array {
  const body = Uint8Array.from([...derInteger(sig.r), ...derInteger(sig.s)])
  return Uint8Array.from([0x30, ...derLength(body.length), ...body])
}

/** Reads SEQUENCE { R, S }; like Go's asn1.Unmarshal it ignores bytes after the sequence. */
export function decodeEcdsaSignature (der: Uint8Array): EcdsaSignature {
  const seq = readTlv(der, 0)
  if (seq.tag !== 0x30) throw new Error('ECDSA signature is not a SEQUENCE')
  const r = readTlv(seq.value, 0)
  const s = readTlv(seq.value, r.end)
  if (r.tag !== 0x02 || s.tag !== 0x02 || s.end !== seq.value.length) throw new Error('ECDSA signature is not SEQUENCE { INTEGER, INTEGER }')
  if ((r.value[0] & 0x80) !== 0 || (s.value[0] & 0x80) !== 0) throw new Error('negative integer in ECDSA signature')
  return { r: bigIntFromBytes(r.value), s: bigIntFromBytes(s.value) }
}

/** Go's big.Int MarshalText: the decimal digits, as membersrvc's Signature carries R and S. */
export function bigIntText (v: bigint): Uint8Array {
  return new TextEncoder().encode(v.toString(10))
}

/** Go's big.Int UnmarshalText for what MarshalText writes: optional sign, decimal digits. */
export function parseBigIntText (text: Uint8Array): bigint {
  const s = new TextDecoder().decode(text).trim()
  const m = /^([+-]?)([0-9]+)$/.exec(s)
  if (m === null) throw new Error(`not an integer: ${JSON.stringify(s.slice(0, 40))}`)
  const v = BigInt(m[2])
  return m[1] === '-' ? -v : v
}
