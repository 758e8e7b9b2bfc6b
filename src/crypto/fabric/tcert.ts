import { concatBytes, utf8 } from '../bytes.ts'
import { cbcPkcs7Decrypt, cbcPkcs7Encrypt } from './aes.ts'
import { type EcPrivateKey, type EcPublicKey, type RandomBytes, bigIntFromBytes, bigIntToBytes, cryptoRandomBytes, privateKeyFromScalar, samePublicKey } from './ec-key.ts'
import { marshalPublicKey } from './keys.ts'
import { type CryptoSuite, curveImpl, curveOrder } from './suite.ts'
import { type FabricCertificate, OID_TCERT_ENC_TCERT_INDEX, getExtension } from './x509.ts'

/** The 16 bytes of 0xff the TCA appends to a TCert index and to an encrypted enrollment ID. */
export const TCERT_PADDING = new Uint8Array(16).fill(0xff)

/** The TCA's per-user key (TCertOwnerKDFKey): HMAC of the user's enrollment public key (PKIX DER) under the TCA's hmac key. */
export function tcertKdfKey (suite: CryptoSuite, tcaHmacKey: Uint8Array, enrollPublicKey: EcPublicKey): Uint8Array {
  return suite.hmac(tcaHmacKey, marshalPublicKey(enrollPublicKey))
}

/** A batch nonce: 8 random bytes, then the request's timestamp seconds as a little-endian uint64. */
export function tcertBatchNonce (timestampSeconds: bigint, random: RandomBytes = cryptoRandomBytes): Uint8Array {
  const nonce = new Uint8Array(16)
  nonce.set(random(8), 0)
  new DataView(nonce.buffer).setBigUint64(8, BigInt.asUintN(64, timestampSeconds), true)
  return nonce
}

/** The clear index of the i-th TCert of a batch: decimal 2i+1, the batch nonce, the padding. */
export function tcertIndex (i: number, nonce: Uint8Array): Uint8Array {
  return concatBytes(utf8(String(2 * i + 1)), nonce, TCERT_PADDING)
}

/** The two keys the owner and the TCA derive from the KDF key: the index's AES key and the expansion key. */
export function tcertOwnerKeys (suite: CryptoSuite, kdfKey: Uint8Array): { encryptKey: Uint8Array, expansionKey: Uint8Array } {
  return { encryptKey: suite.hmacAESTruncated(kdfKey, Uint8Array.of(1)), expansionKey: suite.hmac(kdfKey, Uint8Array.of(2)) }
}

// k = HMAC(expansionKey, index) mod (n-1) + 1
function expansionScalar (suite: CryptoSuite, expansionKey: Uint8Array, index: Uint8Array, n: bigint): bigint {
  return (bigIntFromBytes(suite.hmac(expansionKey, index)) % (n - 1n)) + 1n
}

/**
 * TCA side: the TCert public key (enrollment public key + k·G) and the index encrypted for the
 * owner (AES-CBC with PKCS#7 under the owner's encrypt key, as the critical extension 1.2.3.4.5.6.7 carries it).
 */
export function deriveTCertPublicKey (suite: CryptoSuite, enrollPublicKey: EcPublicKey, kdfKey: Uint8Array, index: Uint8Array, random: RandomBytes = cryptoRandomBytes): { publicKey: EcPublicKey, encryptedIndex: Uint8Array } {
  const { encryptKey, expansionKey } = tcertOwnerKeys(suite, kdfKey)
  const c = curveImpl(enrollPublicKey.curve)
  const k = expansionScalar(suite, expansionKey, index, curveOrder(enrollPublicKey.curve))
  const point = c.Point.fromBytes(enrollPublicKey.point).add(c.Point.BASE.multiply(k)).toBytes(false)
  return { publicKey: { curve: enrollPublicKey.curve, point }, encryptedIndex: cbcPkcs7Encrypt(encryptKey, index, random) }
}

/** Owner side: the TCert private key (enrollment key + k mod n) from the encrypted index. */
export function deriveTCertPrivateKey (suite: CryptoSuite, enrollKey: EcPrivateKey, kdfKey: Uint8Array, encryptedIndex: Uint8Array): EcPrivateKey {
  const { encryptKey, expansionKey } = tcertOwnerKeys(suite, kdfKey)
  const index = cbcPkcs7Decrypt(encryptKey, encryptedIndex)
  const n = curveOrder(enrollKey.curve)
  return privateKeyFromScalar(enrollKey.curve, (enrollKey.d + expansionScalar(suite, expansionKey, index, n)) % n)
}

/**
 * The private key of a TCert issued to the owner of `enrollKey`, as the Fabric client derives it;
 * throws when the index does not decrypt or the derived key is not the certificate's (a TCert of someone else).
 */
export function tcertPrivateKey (suite: CryptoSuite, enrollKey: EcPrivateKey, kdfKey: Uint8Array, tcert: FabricCertificate): EcPrivateKey {
  const encryptedIndex = getExtension(tcert, OID_TCERT_ENC_TCERT_INDEX)
  let key: EcPrivateKey
  try {
    key = deriveTCertPrivateKey(suite, enrollKey, kdfKey, encryptedIndex)
  } catch (err) {
    throw new Error('Failed decrypting extension TCERT_ENC_TCERTINDEX', { cause: err })
  }
  if (!samePublicKey(key.publicKey, tcert.publicKey)) throw new Error('Derived public key is different on X')
  return key
}

/** PreK0 of one TCert: HMAC of the certificate's serial number (big-endian, minimal) under the affiliation's pre-key. */
export function tcertPreK0 (suite: CryptoSuite, affiliationPreKey: Uint8Array, serialNumber: bigint): Uint8Array {
  return suite.hmac(affiliationPreKey, bigIntToBytes(serialNumber))
}

function enrollmentIdKey (suite: CryptoSuite, preK0: Uint8Array): Uint8Array {
  return suite.hmacAESTruncated(preK0, utf8('enrollmentID'))
}

/** The value of extension 1.2.3.4.5.6.8: the enrollment ID (the ECert's CN) plus padding, encrypted under a key from PreK0. */
export function encryptTCertEnrollmentId (suite: CryptoSuite, preK0: Uint8Array, enrollmentId: string, random: RandomBytes = cryptoRandomBytes): Uint8Array {
  return cbcPkcs7Encrypt(enrollmentIdKey(suite, preK0), concatBytes(utf8(enrollmentId), TCERT_PADDING), random)
}

/** The enrollment ID in a TCert, for an auditor holding PreK0 (padding removed). */
export function decryptTCertEnrollmentId (suite: CryptoSuite, preK0: Uint8Array, value: Uint8Array): string {
  const pt = cbcPkcs7Decrypt(enrollmentIdKey(suite, preK0), value)
  return new TextDecoder().decode(pt.subarray(0, pt.length - TCERT_PADDING.length))
}

/** The affiliation pre-key tree: a group's pre-key is HMAC(parent's pre-key, group name); the root's is the TCA's. */
export function affiliationPreKey (suite: CryptoSuite, parentPreKey: Uint8Array, groupName: string): Uint8Array {
  return suite.hmac(parentPreKey, utf8(groupName))
}
