import { create, toBinary } from '@bufbuild/protobuf'
import type { Timestamp } from '@bufbuild/protobuf/wkt'
import {
  ChaincodeDeploymentSpecSchema, ChaincodeIDSchema,
  type ChaincodeDeploymentSpec, type ChaincodeInvocationSpec
} from '../protos/chaincode_pb.ts'
import { TransactionSchema, Transaction_Type, type Transaction } from '../protos/fabric_pb.ts'
import { marshalChaincodeID, marshalInvocationSpec } from './spec-bytes.ts'

/** protos.NewChaincodeDeployTransaction: the deploy txid is the chaincode name (dev and network mode). */
export function newDeployTransaction (cds: ChaincodeDeploymentSpec, txid: string, timestamp?: Timestamp): Transaction {
  const cID = cds.chaincodeSpec?.chaincodeID
  return create(TransactionSchema, {
    type: Transaction_Type.CHAINCODE_DEPLOY,
    txid,
    timestamp,
    chaincodeID: cID === undefined ? new Uint8Array(0) : toBinary(ChaincodeIDSchema, cID),
    payload: toBinary(ChaincodeDeploymentSpecSchema, cds)
  })
}

/** protos.NewChaincodeExecute: an invoke or query transaction (encoded by ./spec-bytes.ts, as toBinary would). */
export function newExecuteTransaction (cis: ChaincodeInvocationSpec, txid: string, type: Transaction_Type.CHAINCODE_INVOKE | Transaction_Type.CHAINCODE_QUERY, timestamp?: Timestamp): Transaction {
  const cID = cis.chaincodeSpec?.chaincodeID
  return create(TransactionSchema, {
    type,
    txid,
    timestamp,
    chaincodeID: cID === undefined ? new Uint8Array(0) : marshalChaincodeID(cID),
    payload: marshalInvocationSpec(cis)
  })
}
