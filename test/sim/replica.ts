import { equalBytes, utf8 } from '../../src/crypto/bytes.ts'
import { computeCryptoHash } from '../../src/crypto/hash.ts'
import type { SecurityUtils } from '../../src/consensus/interfaces.ts'
import type { PbftBatchStatus } from '../../src/consensus/pbft/batch.ts'
import { validatePbftConfig, type PbftConfig } from '../../src/consensus/pbft/config.ts'
import { replicaName } from '../../src/consensus/validators.ts'
import { blockHash } from '../../src/ledger/block.ts'
import { PeerNode } from '../../src/peer-node.ts'
import type { Block, PeerID, Response, Transaction } from '../../src/protos/fabric_pb.ts'
import { memoryStore, type KVStore } from '../../src/storage/index.ts'
import { replicaConfig } from './config.ts'
import { kvRuntime } from './kv-chaincode.ts'
import type { SimNetwork, SimTransport } from './network.ts'
import type { Prng } from './prng.ts'
import type { SimClock } from './scheduler.ts'

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
}

/**
 * One simulated validator: a PeerNode on a simulated platform. Its memory store outlives crashes,
 * its transport is the seeded network, its scheduler virtual, its randomness seeded, and its
 * chaincode the in-process key=value one.
 */
export class SimReplica {
  readonly name: string
  node?: PeerNode
  private transport?: SimTransport
  private store?: KVStore
  up = false
  /** PBFT stopped itself on a fatal condition (only a test's fault injection should cause one). */
  halted = false
  boots = 0
  private stopping?: Promise<void>
  /** Overrides applied to this replica's PBFT config at every boot. */
  configPatch: Partial<PbftConfig> = {}
  /** While set, invokes wait for it (a slow or blocked chaincode). */
  gate?: Promise<void>
  /** Blocks written to the ledger holding transactions this replica never ran: what state transfer brought. */
  transferred = 0
  /** Txids this replica's chaincode ran (state transfer runs none). */
  readonly executed = new Set<string>()
  /** The block the world state belongs to, as of the last block written. */
  stateBlock = -1
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
    this.name = replicaName(id)
  }

  /** PBFT's view, sequence numbers, watermark, checkpoints and request queue at this replica. */
  status (): PbftBatchStatus { return this.node!.consensusStatus()!.pbft! }

  /** Asks PBFT for the next view, as Fabric's PBFT tests nudge a replica. */
  requestViewChange (): void { this.node!.requestViewChange() }

  block (n: number): Promise<Block | undefined> { return this.node!.getBlockByNumber(BigInt(n)) }

  async boot (): Promise<void> {
    if (this.up) throw new Error(`${this.name} is already up`)
    await this.stopping
    this.store ??= surviving(await memoryStore(this.name))
    const transport = this.net.transport(this.id)
    const node = await PeerNode.create(replicaConfig({
      name: this.name,
      pbft: validatePbftConfig({ ...this.config, ...this.configPatch }),
      // At first the later replica dials the earlier, so no two dial each other at once; a restarted one dials all.
      rootNodes: Array.from({ length: this.config.N }, (_, i) => i).filter(i => this.boots > 0 ? i !== this.id : i < this.id).map(replicaName),
      ledger: this.ledgerOptions
    }), {
      store: this.store,
      transports: [transport],
      scheduler: this.sched,
      random: this.prng.next,
      chaincodeRuntime: kvRuntime({ executed: txid => this.executed.add(txid), gate: () => this.gate }),
      identity: { consensusSecurity: simSecurity(this.name) }
    })
    // A fatal consensus error stops the node (Fabric panics); the replica stays counted as up, halted.
    node.onStop(reason => {
      if (reason === undefined) return
      this.halted = true
      this.hooks.onFatal(this.id, reason)
    })
    const top = node.height - 1
    const head = (await node.getBlockByNumber(BigInt(top)))!
    this.hooks.onBlock(this.id, top, blockHash(head), head.transactions.map(t => t.txid))
    this.stateBlock = (await node.head()).stateBlock
    node.onBlock(b => {
      const txids = b.block.transactions.map(t => t.txid)
      if (txids.some(id => !this.executed.has(id))) this.transferred++
      this.hooks.onBlock(this.id, b.number, b.hash, txids)
      void node.head().then(h => { this.stateBlock = h.stateBlock })
    })
    this.node = node
    this.transport = transport
    this.up = true
    this.halted = false
    this.boots++
    await node.start()
  }

  /** kill -9: the process is gone; only what reached the store survives. */
  async crash (): Promise<void> {
    if (!this.up) return
    this.up = false
    const { node, transport } = this
    this.stopping = (async () => {
      await transport!.stop()
      await node!.stop()
    })()
  }

  async restart (): Promise<void> {
    await this.crash()
    await this.boot()
  }

  /** Hands `tx` to this replica as a client does (Peer.ProcessTransaction). */
  processTransaction (tx: Transaction): Promise<Response> {
    if (!this.up) throw new Error(`${this.name} is down`)
    return this.node!.processTransaction(tx)
  }
}

/** The store as the ledger sees it: close() leaves it open, so a crashed replica restarts on what it wrote. */
function surviving (store: KVStore): KVStore {
  return {
    location: store.location,
    get: k => store.get(k),
    getMany: ks => store.getMany(ks),
    batch: () => store.batch(),
    write: ops => store.write(ops),
    entries: r => store.entries(r),
    readRanges: rs => store.readRanges(rs),
    close: async () => {}
  }
}
