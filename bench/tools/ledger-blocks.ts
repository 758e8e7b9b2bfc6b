// The ledger commit benchmark's body, shared by bench/ledger.ts (Node, LevelDB and memory) and the
// browser entry (IndexedDB), so both time the same code path. No Node imports here.
import { create } from '@bufbuild/protobuf'
import { utf8, fromUtf8 } from '../../src/crypto/bytes.ts'
import type { Ledger } from '../../src/ledger/ledger.ts'
import { TransactionResultSchema, TransactionSchema, Transaction_Type, type Transaction } from '../../src/protos/fabric_pb.ts'

export const chaincode = 'mycc'
const account = (i: number): string => `acct${i}`

/** Fills the state with `keys` accounts of `chaincode`, `perBlock` writes to a block. */
export async function populate (ledger: Ledger, keys: number, perBlock = 50_000): Promise<void> {
  for (let start = 0; start < keys; start += perBlock) {
    const n = ledger.height
    ledger.beginTxBatch(n)
    ledger.txBegin(`populate${n}`)
    for (let i = start; i < Math.min(keys, start + perBlock); i++) await ledger.setState(chaincode, account(i), utf8('1000'))
    ledger.txFinished(`populate${n}`, true)
    await ledger.commitTxBatch(n, [], undefined)
  }
}

/**
 * How a block's transactions choose keys: `transfer` moves 1 from one existing account to another
 * (example02's invoke a→b, varied accounts); `insert` writes two keys never written before.
 */
export type Workload = 'transfer' | 'insert'

export interface BlockTiming {
  /** Executing the transactions (reads and writes into the batch). */
  execMs: number
  /** commitTxBatch: state hash, block, one storage write. */
  commitMs: number
}

/** Executes and commits one block of `txs` transactions over a state of `keys` accounts. */
export async function commitBlock (ledger: Ledger, workload: Workload, keys: number, txs = 500): Promise<BlockTiming> {
  const n = ledger.height
  const t0 = performance.now()
  ledger.beginTxBatch(n)
  const transactions: Transaction[] = []
  for (let t = 0; t < txs; t++) {
    const txid = `${n}.${t}`
    ledger.txBegin(txid)
    if (workload === 'transfer') {
      const from = account((n * 7919 + t * 104729) % keys)
      const to = account((n * 31 + t * 7 + 1) % keys)
      const a = Number(fromUtf8((await ledger.getState(chaincode, from, false)) ?? utf8('0')))
      const b = Number(fromUtf8((await ledger.getState(chaincode, to, false)) ?? utf8('0')))
      await ledger.setState(chaincode, from, utf8(String(a - 1)))
      await ledger.setState(chaincode, to, utf8(String(b + 1)))
    } else {
      await ledger.setState(chaincode, `new${n}.${t}.a`, utf8(String(t)))
      await ledger.setState(chaincode, `new${n}.${t}.b`, utf8(String(n)))
    }
    ledger.txFinished(txid, true)
    transactions.push(invoke(txid))
  }
  const t1 = performance.now()
  await ledger.commitTxBatch(n, transactions, transactions.map(tx => create(TransactionResultSchema, { txid: tx.txid })))
  return { execMs: t1 - t0, commitMs: performance.now() - t1 }
}

/** A stand-in invoke about the size of example02's `invoke a b 1` (the ledger only stores and hashes it). */
function invoke (txid: string): Transaction {
  return create(TransactionSchema, { type: Transaction_Type.CHAINCODE_INVOKE, chaincodeID: utf8(chaincode), payload: new Uint8Array(120), txid })
}

export interface Figures { median: number, min: number, max: number }

export function figures (values: number[]): Figures {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return { median: s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] }
}

/** `warmup` blocks untimed, then `runs` timed blocks; tx/s of commit, and of execute + commit. */
export async function measure (ledger: Ledger, workload: Workload, keys: number, runs: number, warmup = 2, txs = 500): Promise<{ commit: Figures, total: Figures, commitMs: Figures }> {
  for (let i = 0; i < warmup; i++) await commitBlock(ledger, workload, keys, txs)
  const timings: BlockTiming[] = []
  for (let i = 0; i < runs; i++) timings.push(await commitBlock(ledger, workload, keys, txs))
  return {
    commit: figures(timings.map(t => txs * 1000 / t.commitMs)),
    total: figures(timings.map(t => txs * 1000 / (t.commitMs + t.execMs))),
    commitMs: figures(timings.map(t => t.commitMs))
  }
}

export function describeFigures (label: string, r: { commit: Figures, total: Figures, commitMs: Figures }): string {
  const f = (x: Figures): string => `${x.median.toFixed(0)} (min ${x.min.toFixed(0)}, max ${x.max.toFixed(0)})`
  return `${label}: commit ${f(r.commit)} tx/s, ${r.commitMs.median.toFixed(1)} ms a block; execute + commit ${f(r.total)} tx/s`
}
