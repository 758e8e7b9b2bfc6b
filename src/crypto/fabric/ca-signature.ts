import { create } from '@bufbuild/protobuf'
import { CryptoType, type Signature, SignatureSchema } from '../../protos/ca_pb.ts'
import type { EcPrivateKey, EcPublicKey } from './ec-key.ts'
import { bigIntText, ecdsaSignDirect, ecdsaVerifyDigest, parseBigIntText } from './ecdsa.ts'
import type { CryptoSuite } from './suite.ts'

/**
 * The signature membersrvc requests carry (CreateCertificatePair's second phase, CreateCertificateSet,
 * TLS CreateCertificate): ECDSA over the suite's hash of the request marshalled without its `sig`,
 * R and S as decimal text.
 */
export function signCaRequest (suite: CryptoSuite, key: EcPrivateKey, unsigned: Uint8Array): Signature {
  const { r, s } = ecdsaSignDirect(suite, key, unsigned)
  return create(SignatureSchema, { type: CryptoType.ECDSA, r: bigIntText(r), s: bigIntText(s) })
}

/** The CA side: false for a missing signature or R/S that are not integers (Go then verifies zeros). */
export function verifyCaRequest (suite: CryptoSuite, pub: EcPublicKey, unsigned: Uint8Array, sig: Signature | undefined): boolean {
  if (sig === undefined) return false
  let r: bigint, s: bigint
  try {
    r = parseBigIntText(sig.r)
    s = parseBigIntText(sig.s)
  } catch {
    return false
  }
  return ecdsaVerifyDigest(pub, suite.hash(unsigned), { r, s })
}
