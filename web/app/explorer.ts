// The explorer's look-ups in this peer's chain: a page of blocks, one block, one transaction
// (committed, or rejected as a REJECTION event told), a chaincode's transactions; lookup()
// decides from what was typed which of them is meant.
import { chaincodeEvents, summarizeBlock, summarizeTx, type BlockSummary, type EventSummary, type TxSummary } from './chain.ts'
import type { PeerFacade } from './facade.ts'

export const PAGE_SIZE = 20
/** Blocks a chaincode search reads before it asks to go on (each one is an IndexedDB read). */
const SCAN_STEP = 2000
const MAX_HITS = 100
/** Shorter than this, a chaincode name prefix matches too much to mean one chaincode. */
const MIN_PREFIX = 6

export interface TxDetail extends TxSummary {
  status: 'committed' | 'rejected'
  block?: number
  /** Its position in the block. */
  index?: number
  /** When the client made it (the transaction's timestamp, ms), if it says. */
  time?: number
  /** Why it was rejected. */
  error?: string
  /** The chaincode events it emitted. */
  events: EventSummary[]
}

export interface ChaincodeTx extends TxSummary { block: number }

export interface ChaincodeHits {
  /** Newest first. */
  txs: ChaincodeTx[]
  /** The next block to search (older), or -1 once block 0 was searched. */
  next: number
}

export type SearchResult =
  | { kind: 'block', query: string, block: BlockSummary }
  | { kind: 'tx', query: string, tx: TxDetail }
  | { kind: 'chaincode', query: string, hits: ChaincodeHits }
  /** `next`: a chaincode search that may go on from there (older blocks). */
  | { kind: 'none', query: string, why: string, next?: number }

export async function block (f: PeerFacade, n: number): Promise<BlockSummary | undefined> {
  const b = await f.node.getBlockByNumber(BigInt(n))
  return b === undefined ? undefined : summarizeBlock(n, b)
}

/** Blocks `top`, `top - 1`, … (at most PAGE_SIZE of them, down to 0). */
export async function blockPage (f: PeerFacade, top: number): Promise<BlockSummary[]> {
  const out: BlockSummary[] = []
  for (let n = top; n >= 0 && n > top - PAGE_SIZE; n--) {
    const b = await block(f, n)
    if (b !== undefined) out.push(b)
  }
  return out
}

export async function transaction (f: PeerFacade, txid: string): Promise<TxDetail | undefined> {
  const st = await f.node.transactionStatus(txid)
  if (st.status === 'committed') {
    const b = await f.node.getBlockByNumber(BigInt(st.block))
    const index = b?.transactions.findIndex(t => t.txid === txid) ?? -1
    if (b !== undefined && index >= 0) {
      const tx = b.transactions[index]
      const events = chaincodeEvents(b).filter(e => e.txid === txid)
      const ts = tx.timestamp
      return { ...summarizeTx(tx), status: 'committed', block: st.block, index, time: ts === undefined ? undefined : Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6), events }
    }
  }
  const r = f.rejected.get(txid)
  if (r !== undefined) return { txid, type: 'undefined', chaincode: r.chaincode, args: [], status: 'rejected', error: r.error, time: r.time, events: [] }
  if (st.status === 'rejected') return { txid, type: 'undefined', chaincode: '', args: [], status: 'rejected', error: st.error, time: st.at, events: [] }
  return undefined
}

/** Deploys and invokes of the chaincode named `name` (or whose name starts so), from block `from` down. */
export async function chaincodeTxs (f: PeerFacade, name: string, from: number): Promise<ChaincodeHits> {
  const needle = name.toLowerCase()
  const matches = (cc: string): boolean => cc === name || (needle.length >= MIN_PREFIX && cc.toLowerCase().startsWith(needle))
  const txs: ChaincodeTx[] = []
  let n = from
  for (; n >= 0 && n > from - SCAN_STEP && txs.length < MAX_HITS; n--) {
    const b = await f.node.getBlockByNumber(BigInt(n))
    for (const t of b?.transactions ?? []) {
      const s = summarizeTx(t)
      if (matches(s.chaincode)) txs.push({ ...s, block: n })
    }
  }
  return { txs, next: n }
}

/** What a link or the search box asks for: a block, a transaction, a chaincode, or any of them (the box). */
export type Lookup = 'block' | 'tx' | 'chaincode' | 'search'

/**
 * The search box: a block number ("12" or "#12"), else a txid, else a chaincode name or the
 * start of one. A deploy's txid is its chaincode's name: that chaincode's transactions are meant.
 */
export async function lookup (f: PeerFacade, how: Lookup, typed: string): Promise<SearchResult> {
  const query = typed.trim()
  if (query === '') return { kind: 'none', query, why: 'Type a transaction id, a block number or a chaincode name.' }
  const height = f.node.height
  const number = /^#?(\d+)$/.exec(query)
  if (how === 'block' || (how === 'search' && number !== null)) {
    const n = number === null ? NaN : Number(number[1])
    const b = n < height ? await block(f, n) : undefined
    if (b !== undefined) return { kind: 'block', query, block: b }
    return { kind: 'none', query, why: `No block ${number === null ? `"${query}"` : `#${n}`}: this peer's chain has ${height} block${height === 1 ? '' : 's'}${height > 0 ? ` (#0 to #${height - 1})` : ''}.` }
  }
  if (how !== 'chaincode') {
    const tx = await transaction(f, query)
    if (tx !== undefined && (how === 'tx' || !(tx.type === 'deploy' && tx.chaincode === query))) return { kind: 'tx', query, tx }
    if (how === 'tx') return { kind: 'none', query, why: `No transaction ${query} in this peer's chain, and no rejection of it seen.` }
  }
  return await searchChaincode(f, query, height - 1, how === 'search')
}

/** A chaincode's transactions from block `from` down (a search goes on with the `next` it returned); `asTxid`: the query was looked up as a txid too. */
export async function searchChaincode (f: PeerFacade, query: string, from: number, asTxid = true): Promise<SearchResult> {
  const hits = await chaincodeTxs(f, query, from)
  if (hits.txs.length > 0) return { kind: 'chaincode', query, hits }
  const searched = hits.next < 0 && from === f.node.height - 1 ? 'the whole chain' : `blocks #${hits.next + 1} to #${from}`
  const why = `Nothing found for "${query}": ${asTxid ? 'no transaction has this id, and ' : ''}no chaincode ${query.length >= MIN_PREFIX ? 'name starts so' : 'has this name'} in ${searched}.`
  return { kind: 'none', query, why, next: hits.next < 0 ? undefined : hits.next }
}
