import { create } from '@bufbuild/protobuf'
import { ChaincodeSecurityContextSchema, type ChaincodeSecurityContext } from '../protos/chaincode_pb.ts'
import type { Transaction } from '../protos/fabric_pb.ts'

/**
 * The security context every INIT / READY / TRANSACTION / QUERY carries; `input` is the marshaled
 * ChaincodeInput. Fabric's Go shim reads the chaincode's args from its payload, so it is sent with
 * security off too; `binding` (security on) is the transaction's binding.
 */
export function securityContext (tx: Transaction, input: Uint8Array, binding: ((tx: Transaction) => Uint8Array) | undefined): ChaincodeSecurityContext {
  return create(ChaincodeSecurityContextSchema, {
    callerCert: tx.cert,
    callerSign: tx.signature,
    binding: binding?.(tx),
    metadata: tx.metadata,
    payload: input,
    txTimestamp: tx.timestamp
  })
}
