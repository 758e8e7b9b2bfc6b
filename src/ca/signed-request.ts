import { clone, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf'
import type { EcPublicKey } from '../crypto/fabric/ec-key.ts'
import { ecdsaVerifyDigest, parseBigIntText } from '../crypto/fabric/ecdsa.ts'
import type { CryptoSuite } from '../crypto/fabric/suite.ts'
import type { Signature } from '../protos/ca_pb.ts'

/**
 * Whether `sig` signs `req` as Fabric's CA checks it: the request marshalled with its signature
 * field cleared, hashed with the security level's hash, R and S as decimal text. Text that does
 * not parse reads as zero in Fabric, which never verifies.
 */
export function verifySignedRequest<Desc extends DescMessage> (
  suite: CryptoSuite, pub: EcPublicKey, schema: Desc, req: MessageShape<Desc>, sigField: string, sig: Signature | undefined
): boolean {
  if (sig === undefined) return false
  let r: bigint, s: bigint
  try {
    r = parseBigIntText(sig.r)
    s = parseBigIntText(sig.s)
  } catch {
    return false
  }
  const unsigned = clone(schema, req) as Record<string, unknown>
  unsigned[sigField] = undefined
  return ecdsaVerifyDigest(pub, suite.hash(toBinary(schema, unsigned as MessageShape<Desc>)), { r, s })
}
