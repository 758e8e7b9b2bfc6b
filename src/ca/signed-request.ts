import { clone, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf'
import type { EcPublicKey } from '../crypto/fabric/ec-key.ts'
import { verifyCaRequest } from '../crypto/fabric/ca-signature.ts'
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
  const unsigned = clone(schema, req) as Record<string, unknown>
  unsigned[sigField] = undefined
  return verifyCaRequest(suite, pub, toBinary(schema, unsigned as MessageShape<Desc>), sig)
}
