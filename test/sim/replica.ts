import { create } from '@bufbuild/protobuf'
import { equalBytes, fromUtf8, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { computeCryptoHash } from '../../src/crypto/hash.ts'
import { blockHash } from '../../src/ledger/block.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import { TransactionResultSchema, type PeerID, type Transaction } from '../../src/protos/fabric_pb.ts'
import { memoryStore, type KVStore } from '../../src/storage/index.ts'
import { ConsensusHelper } from '../../src/consensus/helper.ts'
import { StateTransferError, type SecurityUtils, type StateTransfer, type TxExecutor } from '../../src/consensus/interfaces.ts'
import type { PbftBatch } from '../../src/consensus/pbft/batch.ts'
import { createPbftConsenter } from '../../src/consensus/pbft/plugin.ts'
import type { PbftConfig } from '../../src/consensus/pbft/config.ts'
import type { PbftStatus } from '../../src/consensus/pbft/state.ts'
import { replicaIdOf, ValidatorSet } from '../../src/consensus/validators.ts'
import type { SimNetwork } from './network.ts'
import type { Prng } from './prng.ts'
import type { SimClock } from './scheduler.ts'

export const simChaincode = 'sim'

/** The test chaincode: a transaction's payload `key=value` writes that pair; anything else fails. */
export function testExecutor (ledger: () => Ledger, gate: () => Promise<void> | undefined = () => undefined): TxExecutor {
  return async txs => {
    await gate()
    const succeeded: Transaction[] = []
    const results = []
    for (const tx of txs) {
      const m = /^([^=]+)=(.*)$/s.exec(fromUtf8(tx.payload))
      ledger().txBegin(tx.txid)
      if (m === null) {
        ledger().txFinished(tx.txid, false)
        results.push(create(TransactionResultSchema, { txid: tx.txid, error: 'payload is not key=value', errorCode: 1 }))
        continue
      }
      await ledger().setState(simChaincode, m[1], utf8(m[2]))
      ledger().txFinished(tx.txid, true)
      succeeded.push(tx)
      results.push(create(TransactionResultSchema, { txid: tx.txid }))
    }
    return { succeeded, results }
  }
}

/** Deterministic keyed "signatures": each replica's secret is derived from its name, so a forger's fail. */
export function simSecurity (self: string): SecurityUtils {
  const mac = (name: string, data: Uint8Array): Uint8Array => computeCryptoHash(new Uint8Array([...utf8(`secret:${name}:`), ...data])).subarray(0, 32)
  return {
    sign: data => mac(self, data),
    verify: (signer: PeerID, signature: Uint8Array, data: Uint8Array) => {
      if (!equalBytes(signature, mac(signer.name, data))) throw new Error(`bad signature from ${signer.name}`)
    }
  }
}

export interface ReplicaHooks {
  /** Every block written to this replica's ledger (commit or state transfer). */
  onBlock: (replica: number, n: number, hash: Uint8Array, txids: string[]) => void
  onFatal: (replica: number, err: Error) => void
  /** Other replicas' ledgers, for state transfer; undefined when that replica is down. */
  peerLedger: (replica: number) => Ledger | undefined
}

/**
 * One simulated validator: a memory store that outlives crashes, a real ledger (bucket tree),
 * the real helper/executor/PBFT consenter, and state transfer that copies verified blocks and
 * state deltas from other replicas' ledgers after a virtual delay.
 */
export class SimReplica {
  readonly name: string
  store?: KVStore
  ledger?: Ledger
  helper?: ConsensusHelper
  consenter?: PbftBatch
  up = false
  /** PBFT stopped itself on a fatal condition (only a test's fault injection should cause one). */
  halted = false
  boots = 0
  private stopping?: Promise<void>
  /** Overrides applied to this replica's config at every boot. */
  configPatch: Partial<PbftConfig> = {}
  /** While set, executions wait for it (a slow or blocked chaincode). */
  gate?: Promise<void>
  /** Blocks received by state transfer. */
  transferred = 0
  /** The bucket tree: Fabric's test sizes by default (fast); core.yaml's for realistic costs. */
  ledgerOptions = { numBuckets: 19, maxGroupingAtEachLevel: 3 }

  constructor (
    readonly id: number,
    private readonly config: PbftConfig,
    private readonly sched: SimClock,
    private readonly net: SimNetwork,
    private readonly prng: Prng,
    private readonly hooks: ReplicaHooks
  ) {
    this.name = `vp${id}`
  }

  async boot (): Promise<void> {
    if (this.up) throw new Error(`${this.name} is already up`)
    await this.stopping
    this.store ??= await memoryStore(this.name)
    const ledger = await Ledger.open(this.store, { ...this.ledgerOptions, scheduler: this.sched })
    await makeGenesis(ledger)
    this.ledger = ledger
    ledger.onBlock(b => this.hooks.onBlock(this.id, b.number, b.hash, b.block.transactions.map(t => t.txid)))
    const head = (await ledger.getBlockByNumber(ledger.height - 1))!
    this.hooks.onBlock(this.id, ledger.height - 1, blockHash(head), head.transactions.map(t => t.txid))
    const config = { ...this.config, ...this.configPatch }
    const validators = new ValidatorSet(this.name, Array.from({ length: this.config.N }, (_, i) => ({ name: `vp${i}` })))
    const helper = new ConsensusHelper({ executorQueueSize: config.executorQueueSize, executeOnce: config.extensions.executeOnce, stateTransferRetryMs: 500, name: this.name }, {
      ledger,
      communicator: this.net.communicator(this.id),
      inquirer: validators,
      executeTransactions: testExecutor(() => ledger, () => this.gate),
      stateTransfer: this.stateTransfer(ledger),
      security: simSecurity(this.name),
      scheduler: this.sched
    })
    const consenter = await createPbftConsenter({ self: this.name, config }, {
      stack: helper.stack,
      timers: this.sched,
      random: this.prng.next,
      onFatal: err => { this.halted = true; this.hooks.onFatal(this.id, err) }
    })
    helper.setConsenter(consenter)
    this.helper = helper
    this.consenter = consenter
    this.net.attach(this.id, (msg, from) => consenter.recvMsg(msg, from))
    this.net.down.delete(this.id)
    this.up = true
    this.halted = false
    this.boots++
    consenter.start()
  }

  /** kill -9: the process is gone; only what reached the store survives. */
  async crash (): Promise<void> {
    if (!this.up) return
    this.up = false
    this.net.down.add(this.id)
    const consenter = this.consenter!
    const helper = this.helper!
    this.stopping = (async () => {
      await consenter.stop()
      await helper.executor.stop()
    })()
  }

  async restart (): Promise<void> {
    await this.crash()
    await this.boot()
  }

  status (): PbftStatus { return this.consenter!.status() }

  /** Brings `ledger` to block `target`: verified blocks and deltas from the first peer that has them. */
  private stateTransfer (ledger: Ledger): StateTransfer {
    return {
      syncToTarget: async (target: number, hash: Uint8Array, peers: PeerID[] | undefined, signal: AbortSignal) => {
        await this.sched.sleep(20)
        if (signal.aborted) throw new StateTransferError('aborted', false)
        if (ledger.height - 1 >= target) {
          const have = await ledger.getBlockByNumber(target)
          if (have !== undefined && equalBytes(blockHash(have), hash) && ledger.stateBlockNumber === target) return
          throw new StateTransferError(`local chain is at ${ledger.height - 1}, past target ${target}${have === undefined ? '' : ` whose hash ${toHex(blockHash(have)).slice(0, 16)} differs`}`, false)
        }
        const ids = peers?.map(p => replicaIdOf(p.name)) ?? Array.from({ length: this.config.N }, (_, i) => i)
        let lacking = ''
        for (const peer of ids.filter(i => i !== this.id)) {
          const remote = this.hooks.peerLedger(peer)
          if (remote === undefined || remote.height - 1 < target) continue
          const top = await remote.getBlockByNumber(target)
          if (top === undefined || !equalBytes(blockHash(top), hash)) continue
          try {
            this.transferred += await copyBlocks(remote, ledger, target, signal)
            return
          } catch (err) {
            // A peer that got blocks by state transfer has no deltas for them: ask the next one.
            if (!(err instanceof StateTransferError) || !err.recoverable) throw err
            lacking = `; vp${peer}: ${err.message}`
          }
        }
        throw new StateTransferError(`no peer among ${ids.join(',')} has block ${target} with hash ${toHex(hash).slice(0, 16)}${lacking}`, true)
      }
    }
  }
}

async function copyBlocks (from: Ledger, to: Ledger, target: number, signal: AbortSignal): Promise<number> {
  const first = to.height
  for (let n = first; n <= target; n++) {
    const block = await from.getBlockByNumber(n)
    const delta = await from.getStateDelta(n)
    if (block === undefined || delta === undefined) throw new StateTransferError(`peer lacks block or delta ${n}`, true)
    const prev = await to.getBlockByNumber(n - 1)
    if (prev === undefined || !equalBytes(blockHash(prev), block.previousBlockHash)) throw new StateTransferError(`block ${n} does not chain onto ours`, false)
    if (signal.aborted) throw new StateTransferError('aborted', false)
    const tag = `transfer-${n}`
    to.applyStateDelta(tag, delta)
    const stateHash = await to.getTempStateHash() ?? new Uint8Array(0)
    if (!equalBytes(stateHash, block.stateHash)) {
      to.rollbackStateDelta(tag)
      throw new StateTransferError(`state after block ${n}'s delta does not match its state hash`, false)
    }
    await to.putRawBlock(block, n)
    await to.commitStateDelta(tag, n)
  }
  return target + 1 - first
}
