import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { ChaincodeEventSchema } from '../protos/chaincodeevent_pb.ts'
import { BlockSchema, type Block } from '../protos/fabric_pb.ts'
import { fromHex, toHex } from '../crypto/bytes.ts'
import { blockHash } from '../ledger/block.ts'
import { Ledger, makeGenesis } from '../ledger/ledger.ts'
import { memoryStore } from '../storage/memory.ts'
import type { KVStore } from '../storage/kv.ts'
import * as example02 from '../../examples/chaincode/example02.ts'
import * as eventsender from '../../examples/chaincode/events.ts'
import * as mapExample from '../../examples/chaincode/map.ts'
import { executeTransactions } from './executor.ts'
import { registerInProcessChaincode } from './in-process-runtime.ts'
import type { Chaincode } from './shim/chaincode.ts'
import { ChaincodeSupport } from './support.ts'

/** The parts of a legacy-chain vector (test/vectors/legacy-chain.json) a replay reads. */
export interface LegacyChainVector {
  peer_config: { chaincode_mode?: string, numBuckets?: number, maxGroupingAtEachLevel?: number, deltaHistorySize?: number }
  chaincodes: Array<{ name: string, source: string }>
  blocks: Array<{
    number: number
    block_proto_hex: string
    hash_hex: string
    state_hash_hex: string | null
    nonhashdata_chaincode_events?: number
    state_delta?: Array<{ chaincodeID: string, key: string, value_hex: string | null, previous_value_hex: string | null }>
  }>
  final_state?: Array<{ chaincodeID: string, key: string, value_hex: string }>
  final_state_hash_hex?: string | null
}

export interface ReplayedBlock {
  number: number
  transactions: number
  hash: string
  expectedHash: string
  stateHash: string
  expectedStateHash: string
  ok: boolean
  /** What differed, or which transactions failed; empty when ok. */
  problems: string[]
}

export interface ReplayResult {
  ok: boolean
  blocks: ReplayedBlock[]
  /** Final world state and its hash compared with the vector's; empty when they agree. */
  finalStateProblems: string[]
}

/** The Fabric example chaincodes Weft has ports of, by their directory in Fabric's examples/chaincode/go. */
export const legacyExampleChaincodes: Record<string, Chaincode> = {
  chaincode_example02: example02,
  map: mapExample,
  eventsender
}

export interface ReplayOptions {
  /** Chaincodes by the name the chain uses; by default the ports of the vector's Fabric examples. */
  chaincodes?: Record<string, Chaincode>
  store?: KVStore
}

/**
 * Re-executes a chain recorded from a Fabric 0.6.1 peer in dev mode: every block's transactions
 * run through the executor against JS ports of its chaincodes and are committed with the same
 * transactions and consensus metadata; block hashes, state hashes, deltas, chaincode events and
 * the final state must all come out equal.
 */
export async function replayLegacyChain (vector: LegacyChainVector, options: ReplayOptions = {}): Promise<ReplayResult> {
  const cfg = vector.peer_config
  if ((cfg.chaincode_mode ?? 'dev') !== 'dev') throw new UnportedChaincodeError(`cannot replay a chain made in chaincode mode ${String(cfg.chaincode_mode)}: only dev mode chains name their chaincode`)
  let now = 0
  const ledger = await Ledger.open(options.store ?? await memoryStore('replay'), {
    numBuckets: cfg.numBuckets,
    maxGroupingAtEachLevel: cfg.maxGroupingAtEachLevel,
    deltaHistorySize: cfg.deltaHistorySize,
    scheduler: { now: () => now }
  })
  const support = new ChaincodeSupport({ ledger, userRunsChaincode: true })
  const running = []
  try {
    for (const cc of vector.chaincodes) running.push(await registerInProcessChaincode(support, cc.name, options.chaincodes?.[cc.name] ?? portOf(cc.source)))
    const blocks: ReplayedBlock[] = []
    for (const recorded of vector.blocks) {
      const block = decodeBlock(recorded.block_proto_hex, recorded.number)
      now = commitTimeMs(block)
      blocks.push(await replayBlock(ledger, support, recorded, block))
    }
    const finalStateProblems = await compareFinalState(ledger, vector)
    return { ok: blocks.every(b => b.ok) && finalStateProblems.length === 0, blocks, finalStateProblems }
  } finally {
    for (const r of running) await r.stop()
    await support.stopAll()
    await ledger.close()
  }
}

/** The chain needs a chaincode Weft has no port of: the chain cannot be checked, which is not a failure of Weft's. */
export class UnportedChaincodeError extends Error {}

function portOf (source: string): Chaincode {
  const dir = /examples\/chaincode\/go\/([\w-]+)/.exec(source)?.[1]
  const cc = dir === undefined ? undefined : legacyExampleChaincodes[dir]
  if (cc === undefined) throw new UnportedChaincodeError(`no JS port of the chaincode "${source}" (known: ${Object.keys(legacyExampleChaincodes).join(', ')})`)
  return cc
}

function decodeBlock (hex: string, n: number): Block {
  try {
    return fromBinary(BlockSchema, fromHex(hex))
  } catch (err) {
    throw new Error(`block ${n}: block_proto_hex does not decode: ${(err as Error).message}`)
  }
}

function commitTimeMs (block: Block): number {
  const t = block.nonHashData?.localLedgerCommitTimestamp
  return t === undefined ? 0 : Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)
}

async function replayBlock (ledger: Ledger, support: ChaincodeSupport, recorded: LegacyChainVector['blocks'][number], block: Block): Promise<ReplayedBlock> {
  const problems: string[] = []
  if (recorded.number !== ledger.height) problems.push(`block ${recorded.number} comes when the chain has height ${ledger.height}`)
  let committed
  if (recorded.number === 0) {
    await makeGenesis(ledger)
    committed = { hash: blockHash((await ledger.getBlockByNumber(0))!), block: (await ledger.getBlockByNumber(0))! }
  } else {
    ledger.beginTxBatch(recorded.number)
    const out = await executeTransactions({ support }, block.transactions)
    out.errors.forEach((e, i) => { if (e !== undefined) problems.push(`transaction ${block.transactions[i].txid} failed: ${e.message}`) })
    committed = await ledger.commitTxBatch(recorded.number, out.succeeded, out.results, block.consensusMetadata)
    problems.push(...compareEvents(committed.block, block))
    problems.push(...await compareDelta(ledger, recorded))
  }
  const hash = toHex(committed.hash)
  const stateHash = toHex(committed.block.stateHash)
  const expectedStateHash = recorded.state_hash_hex ?? ''
  if (hash !== recorded.hash_hex) problems.push(`block hash ${hash} differs from ${recorded.hash_hex}`)
  if (stateHash !== expectedStateHash) problems.push(`state hash ${stateHash || '(none)'} differs from ${expectedStateHash || '(none)'}`)
  return { number: recorded.number, transactions: block.transactions.length, hash, expectedHash: recorded.hash_hex, stateHash, expectedStateHash, ok: problems.length === 0, problems }
}

/** One chaincode event per executed transaction; the chain records none for the failed ones it left out. */
function compareEvents (ours: Block, recorded: Block): string[] {
  const a = (ours.nonHashData?.chaincodeEvents ?? []).map(e => toHex(toBinary(ChaincodeEventSchema, e)))
  const b = (recorded.nonHashData?.chaincodeEvents ?? []).map(e => toHex(toBinary(ChaincodeEventSchema, e)))
  if (b.length !== recorded.transactions.length) return []
  return a.length === b.length && a.every((x, i) => x === b[i]) ? [] : [`chaincode events ${JSON.stringify(a)} differ from ${JSON.stringify(b)}`]
}

async function compareDelta (ledger: Ledger, recorded: LegacyChainVector['blocks'][number]): Promise<string[]> {
  if (recorded.state_delta === undefined) return []
  const delta = await ledger.getStateDelta(recorded.number)
  const hex = (b: Uint8Array | null): string | null => b === null ? null : toHex(b)
  const key = (e: { chaincodeID: string, key: string }): string => `${e.chaincodeID}\u0000${e.key}`
  const ours = (delta?.entries() ?? []).map(e => JSON.stringify([key(e), hex(e.value), hex(e.previousValue)])).sort()
  const theirs = recorded.state_delta.map(e => JSON.stringify([key(e), e.value_hex, e.previous_value_hex])).sort()
  return JSON.stringify(ours) === JSON.stringify(theirs) ? [] : [`state delta ${ours.join(' ')} differs from ${theirs.join(' ')}`]
}

async function compareFinalState (ledger: Ledger, vector: LegacyChainVector): Promise<string[]> {
  const problems: string[] = []
  if (vector.final_state !== undefined) {
    for (const e of vector.final_state) {
      const v = await ledger.getState(e.chaincodeID, e.key, true)
      if (v === null || toHex(v) !== e.value_hex) problems.push(`${e.chaincodeID}/${e.key} is ${v === null ? 'absent' : toHex(v)}, expected ${e.value_hex}`)
    }
    const { entries } = await ledger.stateSnapshot()
    if (entries.length !== vector.final_state.length) problems.push(`state holds ${entries.length} keys, expected ${vector.final_state.length}`)
  }
  if (vector.final_state_hash_hex !== undefined) {
    const h = toHex(await ledger.getTempStateHash() ?? new Uint8Array(0))
    if (h !== (vector.final_state_hash_hex ?? '')) problems.push(`final state hash ${h} differs from ${vector.final_state_hash_hex ?? '(none)'}`)
  }
  return problems
}
