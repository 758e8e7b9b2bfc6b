// Shared set-up for the chaincode tests: a fresh ledger, transactions as clients build them,
// and a batch run the way consensus drives the executor.
import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { ChaincodeDeploymentSpecSchema, ChaincodeInvocationSpecSchema, ChaincodeSpec_Type, type ChaincodeDeploymentSpec } from '../../src/protos/chaincode_pb.ts'
import { Transaction_Type, type Transaction } from '../../src/protos/fabric_pb.ts'
import { executeTransactions, type BatchOutcome } from '../../src/chaincode/executor.ts'
import type { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { newDeployTransaction, newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import { utf8, fromUtf8 } from '../../src/crypto/bytes.ts'
import { Ledger, makeGenesis, type CommittedBlock } from '../../src/ledger/ledger.ts'
import { memoryStore } from '../../src/storage/memory.ts'

export const at = timestampFromMs(1_800_000_000_000)

export async function newLedger (): Promise<Ledger> {
  const ledger = await Ledger.open(await memoryStore(), { numBuckets: 19, maxGroupingAtEachLevel: 3 })
  await makeGenesis(ledger)
  return ledger
}

export function devDeploy (name: string, args: string[]): Transaction {
  const cds = create(ChaincodeDeploymentSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.GOLANG, chaincodeID: { name }, ctorMsg: { args: args.map(utf8) } } })
  return newDeployTransaction(cds, name, at)
}

export function deployOf (cds: ChaincodeDeploymentSpec): Transaction {
  return newDeployTransaction(cds, cds.chaincodeSpec!.chaincodeID!.name, at)
}

let seq = 0
export function invoke (name: string, args: string[], txid = `tx-${++seq}`): Transaction {
  const cis = create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.GOLANG, chaincodeID: { name }, ctorMsg: { args: args.map(utf8) } } })
  return newExecuteTransaction(cis, txid, Transaction_Type.CHAINCODE_INVOKE, at)
}

export function query (name: string, args: string[], txid = `q-${++seq}`): Transaction {
  const cis = create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.GOLANG, chaincodeID: { name }, ctorMsg: { args: args.map(utf8) } } })
  return newExecuteTransaction(cis, txid, Transaction_Type.CHAINCODE_QUERY, at)
}

export interface BatchRun extends BatchOutcome {
  committed: CommittedBlock
  rejections: Array<[string, string]>
}

/** One consensus batch: begin, execute, commit. */
export async function runBatch (support: ChaincodeSupport, txs: Transaction[]): Promise<BatchRun> {
  const ledger = support.ledger
  const id = `batch-${ledger.height}`
  const rejections: Array<[string, string]> = []
  ledger.beginTxBatch(id)
  const out = await executeTransactions({ support, onRejection: (tx, e) => rejections.push([tx.txid, e]) }, txs)
  const committed = await ledger.commitTxBatch(id, out.succeeded, out.results)
  return { ...out, committed, rejections }
}

export async function stateOf (ledger: Ledger, cc: string, key: string): Promise<string | undefined> {
  const v = await ledger.getState(cc, key, true)
  return v === null ? undefined : fromUtf8(v)
}
