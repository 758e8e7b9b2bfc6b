import type { Transaction } from '../protos/fabric_pb.ts'
import type { StateEncryptor } from '../security/confidentiality.ts'

/**
 * security.enabled: what running a confidential transaction's chaincode needs from the peer's
 * crypto (Fabric's secHelper): its transactions decrypted, and its state kept encrypted.
 */
export interface ChaincodeConfidentiality {
  /** TransactionPreExecution: a confidential transaction decrypted, a public one as it is; throws when it cannot be run. */
  preExecute (tx: Transaction): Transaction
  /** GetStateEncryptor for the chaincode `deployTx` deployed, run by `tx` (both decrypted). */
  stateEncryptor (deployTx: Transaction, tx: Transaction): StateEncryptor
}
