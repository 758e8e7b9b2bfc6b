import type { ChaincodeMessage } from '../protos/chaincode_pb.ts'
import type { Transaction } from '../protos/fabric_pb.ts'
import type { RangeCursor } from './range-cursor.ts'

/** One transaction or query in flight on a handler (Fabric's transactionContext). */
export interface TxContext {
  readonly txid: string
  readonly tx?: Transaction
  /** Settles with the chaincode's answer: COMPLETED, ERROR, QUERY_COMPLETED, QUERY_ERROR or READY. */
  readonly response: Promise<ChaincodeMessage>
  readonly cursors: Map<string, RangeCursor>
  notify: (msg: ChaincodeMessage) => void
}
