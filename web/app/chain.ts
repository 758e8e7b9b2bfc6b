// Blocks and transactions as the UI and window.weft show them: hex hashes, decoded chaincode
// calls, chaincode events, and how many transactions of the batch failed.
import { fromBinary } from '@bufbuild/protobuf'
import { fromUtf8, toHex } from '../../src/crypto/bytes.ts'
import { blockHash } from '../../src/ledger/block.ts'
import { ChaincodeDeploymentSpecSchema, ChaincodeIDSchema, ChaincodeInvocationSpecSchema } from '../../src/protos/chaincode_pb.ts'
import { Transaction_Type, type Block, type Transaction } from '../../src/protos/fabric_pb.ts'

export interface TxSummary {
  txid: string
  type: 'deploy' | 'invoke' | 'query' | 'terminate' | 'undefined'
  /** The chaincode name (a deploy's is derived from its package and constructor). */
  chaincode: string
  /** Constructor or call arguments as text, function first. */
  args: string[]
}

export interface EventSummary { chaincodeID: string, txid: string, eventName: string, payload: string }

export interface BlockSummary {
  number: number
  hash: string
  previousHash: string
  /** Hex, '' when the state is empty. */
  stateHash: string
  txs: TxSummary[]
  /** Transactions of the batch that failed (an empty chaincode-event placeholder without a transaction). */
  failed: number
  events: EventSummary[]
  /** Commit time (ms) as the block's nonHashData says, if any. */
  committedAt?: number
}

const TYPE_NAMES: Record<number, TxSummary['type']> = {
  [Transaction_Type.CHAINCODE_DEPLOY]: 'deploy',
  [Transaction_Type.CHAINCODE_INVOKE]: 'invoke',
  [Transaction_Type.CHAINCODE_QUERY]: 'query',
  [Transaction_Type.CHAINCODE_TERMINATE]: 'terminate'
}

function text (b: Uint8Array): string {
  const s = fromUtf8(b)
  return s.length > 200 ? s.slice(0, 200) + '…' : s
}

export function summarizeTx (tx: Transaction): TxSummary {
  let chaincode = ''
  let args: string[] = []
  try { chaincode = fromBinary(ChaincodeIDSchema, tx.chaincodeID).name } catch { /* not a chaincode id */ }
  try {
    if (tx.type === Transaction_Type.CHAINCODE_DEPLOY) {
      const cds = fromBinary(ChaincodeDeploymentSpecSchema, tx.payload)
      chaincode ||= cds.chaincodeSpec?.chaincodeID?.name ?? ''
      args = (cds.chaincodeSpec?.ctorMsg?.args ?? []).map(text)
    } else {
      const cis = fromBinary(ChaincodeInvocationSpecSchema, tx.payload)
      chaincode ||= cis.chaincodeSpec?.chaincodeID?.name ?? ''
      args = (cis.chaincodeSpec?.ctorMsg?.args ?? []).map(text)
    }
  } catch { /* payload stripped (announced blocks) or not ours */ }
  return { txid: tx.txid, type: TYPE_NAMES[tx.type] ?? 'undefined', chaincode, args }
}

/** The chaincode events a block's transactions emitted (not the empty placeholders of the others). */
export function chaincodeEvents (block: Block): EventSummary[] {
  return (block.nonHashData?.chaincodeEvents ?? []).filter(e => e.chaincodeID !== '')
    .map(e => ({ chaincodeID: e.chaincodeID, txid: e.txID, eventName: e.eventName, payload: text(e.payload) }))
}

/** `hash` when known (the ledger's commit notification carries it): hashing a big block again is slow in JS. */
export function summarizeBlock (number: number, block: Block, hash?: Uint8Array): BlockSummary {
  const ccEvents = block.nonHashData?.chaincodeEvents ?? []
  const ts = block.nonHashData?.localLedgerCommitTimestamp
  return {
    number,
    hash: toHex(hash ?? blockHash(block)),
    previousHash: toHex(block.previousBlockHash),
    stateHash: toHex(block.stateHash),
    txs: block.transactions.map(summarizeTx),
    failed: Math.max(0, ccEvents.length - block.transactions.length),
    events: chaincodeEvents(block),
    committedAt: ts === undefined ? undefined : Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6)
  }
}

/** "a1b2c3…" for display. */
export function short (hex: string, n = 12): string {
  return hex.length <= n ? hex : hex.slice(0, n) + '…'
}
