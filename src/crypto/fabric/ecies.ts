import { cfb } from '@noble/ciphers/aes.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { concatBytes } from '../bytes.ts'
import { type EcPrivateKey, type EcPublicKey, type RandomBytes, bigIntToBytes, cryptoRandomBytes, generateEcKey } from './ec-key.ts'
import { type CryptoSuite, curveByteLength, curveImpl } from './suite.ts'

const BLOCK = 16
const KEY_LEN = 32

// Z is the shared point's X as Go's big.Int Bytes: no leading zeros.
function sharedSecret (pub: Uint8Array, d: bigint, curve: EcPublicKey['curve']): Uint8Array {
  const p = curveImpl(curve).Point.fromBytes(pub).multiply(d)
  return bigIntToBytes(p.toAffine().x)
}

function keys (suite: CryptoSuite, z: Uint8Array): { kE: Uint8Array, kM: Uint8Array } {
  // no salt and no info, as Fabric calls it; the two keys are consecutive reads
  const okm = hkdf(suite.hashFn, z, undefined, undefined, 2 * KEY_LEN)
  return { kE: okm.slice(0, KEY_LEN), kM: okm.slice(KEY_LEN) }
}

/**
 * Fabric's ECIES encryption (primitives/ecies): ephemeral uncompressed point R, then AES-256-CFB
 * with a random IV prefix, then HMAC over that ciphertext; output R || IV || C || tag.
 */
export function eciesEncrypt (suite: CryptoSuite, pub: EcPublicKey, plain: Uint8Array, random: RandomBytes = cryptoRandomBytes): Uint8Array {
  if (plain.length === 0) throw new Error('Nil argument')
  const eph = generateEcKey(pub.curve, random)
  const { kE, kM } = keys(suite, sharedSecret(pub.point, eph.d, pub.curve))
  const iv = random(BLOCK)
  const em = concatBytes(iv, cfb(kE, iv).encrypt(plain))
  return concatBytes(eph.publicKey.point, em, hmac(suite.hashFn, kM, em))
}

/** Fabric's ECIES decryption, with its checks and its error texts. */
export function eciesDecrypt (suite: CryptoSuite, priv: EcPrivateKey, ciphertext: Uint8Array): Uint8Array {
  if (ciphertext.length === 0) throw new Error('Nil argument')
  const size = curveByteLength(priv.curve)
  const hLen = suite.hashSize
  let rLen: number
  switch (ciphertext[0]) {
    case 2: case 3: rLen = size + 1; break
    case 4: rLen = 2 * size + 1; break
    default: throw new Error(`Invalid ciphertext. Invalid first byte. [${ciphertext[0]}]`)
  }
  if (ciphertext.length < rLen + hLen + 1) throw new Error(`Invalid ciphertext len [First byte = ${ciphertext[0]}]`)
  // Go's elliptic.Unmarshal takes only uncompressed points
  if (ciphertext[0] !== 4) throw new Error('Invalid ephemeral PK')
  let z: Uint8Array
  try {
    z = sharedSecret(ciphertext.subarray(0, rLen), priv.d, priv.curve)
  } catch {
    throw new Error('Invalid ephemeral PK')
  }
  const mEnd = ciphertext.length - hLen
  const em = ciphertext.subarray(rLen, mEnd)
  const { kE, kM } = keys(suite, z)
  const tag = hmac(suite.hashFn, kM, em)
  let diff = 0
  for (let i = 0; i < hLen; i++) diff |= tag[i] ^ ciphertext[mEnd + i]
  if (diff !== 0) throw new Error('Tag check failed')
  if (em.length < BLOCK) throw new Error('cipher text too short')
  return cfb(kE, em.subarray(0, BLOCK)).decrypt(em.subarray(BLOCK))
}
