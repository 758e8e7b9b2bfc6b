import { create, toBinary } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { equalBytes, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { defaultPbftConfig, validatePbftConfig, type PbftConfig } from '../../src/consensus/pbft/config.ts'
import { handle } from '../../src/consensus/validators.ts'
import { MessageSchema, Message_Type, TransactionSchema, Transaction_Type } from '../../src/protos/fabric_pb.ts'
import { SimNetwork, type LinkConfig } from './network.ts'
import { Prng } from './prng.ts'
import { SimReplica } from './replica.ts'
import { VirtualScheduler, type Settle, type SimClock } from './scheduler.ts'

export interface ClusterOptions {
  seed: number
  N?: number
  f?: number
  config?: Partial<Omit<PbftConfig, 'timeouts'>> & { timeouts?: Partial<PbftConfig['timeouts']> }
  link?: Partial<LinkConfig>
  /** How promise chains are let run between virtual steps (default: Node's setImmediate). */
  settle?: Settle
  /** Default: virtual time. A RealClock runs the same cluster in real time (an in-page network). */
  clock?: SimClock
}

/**
 * N simulated replicas on one virtual clock and one seeded network. Safety is checked on every
 * block any correct replica writes: one hash per height across the cluster.
 */
export class SimCluster {
  readonly sched: SimClock
  readonly prng: Prng
  readonly net: SimNetwork
  readonly replicas: SimReplica[] = []
  readonly config: PbftConfig
  /** Replicas whose behaviour a test corrupts: left out of safety and liveness checks. */
  readonly byzantine = new Set<number>()
  /** Height → block hash (hex) as first written by a correct replica. */
  readonly chain = new Map<number, string>()
  readonly violations: string[] = []
  readonly fatals: string[] = []
  /** Per replica: txids in its blocks, and its height. */
  readonly txids: Array<Set<string>> = []
  readonly heights: number[] = []
  readonly heads: string[] = []
  private txCount = 0

  constructor (readonly opts: ClusterOptions) {
    const N = opts.N ?? 4
    this.sched = opts.clock ?? new VirtualScheduler(1_700_000_000_000, opts.settle)
    this.prng = new Prng(opts.seed)
    this.net = new SimNetwork(this.sched, this.prng.fork(), opts.link)
    const { timeouts, ...rest } = opts.config ?? {}
    this.config = validatePbftConfig({
      ...defaultPbftConfig,
      N,
      f: opts.f ?? Math.floor((N - 1) / 3),
      ...rest,
      timeouts: { ...defaultPbftConfig.timeouts, ...timeouts }
    })
    for (let i = 0; i < N; i++) {
      this.txids.push(new Set())
      this.heights.push(0)
      this.heads.push('')
      const prng = this.prng.fork()
      this.replicas.push(new SimReplica(i, this.config, this.sched, this.net, prng, {
        onBlock: (r, n, hash, ids) => this.recordBlock(r, n, hash, ids),
        onFatal: (r, err) => { if (!this.byzantine.has(r)) this.fatals.push(`vp${r}: ${err.message}`) },
        peerLedger: r => this.replicas[r].up ? this.replicas[r].ledger : undefined
      }))
    }
  }

  async start (): Promise<this> {
    for (const r of this.replicas) await r.boot()
    await this.sched.runFor(1)
    return this
  }

  private recordBlock (r: number, n: number, hash: Uint8Array, ids: string[]): void {
    for (const id of ids) this.txids[r].add(id)
    if (n + 1 > this.heights[r]) {
      this.heights[r] = n + 1
      this.heads[r] = toHex(hash)
    }
    if (this.byzantine.has(r)) return
    const hex = toHex(hash)
    const known = this.chain.get(n)
    if (known === undefined) this.chain.set(n, hex)
    else if (known !== hex) this.violations.push(`height ${n}: vp${r} wrote ${hex.slice(0, 16)}, another correct replica ${known.slice(0, 16)}`)
  }

  correct (): SimReplica[] { return this.replicas.filter(r => !this.byzantine.has(r.id)) }
  live (): SimReplica[] { return this.correct().filter(r => r.up && !r.halted) }

  /** A client transaction `key=value` handed to replica `to` as CHAIN_TRANSACTION; returns its txid. */
  submit (to: number, key?: string, value?: string): string {
    const n = ++this.txCount
    const txid = `tx${n}`
    const tx = create(TransactionSchema, {
      type: Transaction_Type.CHAINCODE_INVOKE,
      txid,
      payload: utf8(`${key ?? `k${n % 7}`}=${value ?? `v${n}`}`),
      timestamp: timestampFromMs(this.sched.now())
    })
    const r = this.replicas[to]
    if (!r.up) throw new Error(`vp${to} is down`)
    const msg = create(MessageSchema, { type: Message_Type.CHAIN_TRANSACTION, payload: toBinary(TransactionSchema, tx) })
    r.consenter!.recvMsg(msg, handle(r.name))
    return txid
  }

  run (ms: number, stop?: () => boolean): Promise<void> { return this.sched.runFor(ms, stop) }

  /** Runs until `done()` or `ms` pass; true when done. */
  async runUntil (done: () => boolean, ms: number): Promise<boolean> {
    await this.sched.runFor(ms, done)
    return done()
  }

  /** Every live correct replica (or each of `among`) has every txid, and they all stand at the same block. */
  converged (txids: readonly string[], among?: number[]): boolean {
    const live = among === undefined ? this.live() : this.live().filter(r => among.includes(r.id))
    if (live.length === 0) return false
    const h = this.heights[live[0].id]
    const head = this.heads[live[0].id]
    for (const r of live) {
      if (this.heights[r.id] !== h || this.heads[r.id] !== head) return false
      if (r.ledger?.stateBlockNumber !== h - 1) return false
    }
    // The txid scan only when the chains moved (this runs after every simulation step).
    const key = `${head}|${live.map(r => r.id).join(',')}|${txids.length}`
    if (this.lastScan?.txids === txids && this.lastScan.key === key) return this.lastScan.ok
    const ok = txids.every(id => live.every(r => this.txids[r.id].has(id)))
    this.lastScan = { txids, key, ok }
    return ok
  }

  private lastScan?: { txids: readonly string[], key: string, ok: boolean }

  /** Safety: no conflicting blocks, no fatal halts of correct replicas, and each live ledger's state matches its head block. */
  async checkSafety (): Promise<string[]> {
    const problems = [...this.violations, ...this.fatals.map(f => `fatal: ${f}`)]
    for (const r of this.live()) {
      const ledger = r.ledger!
      const head = await ledger.getBlockByNumber(ledger.stateBlockNumber)
      const state = await ledger.getTempStateHash() ?? new Uint8Array(0)
      if (head === undefined || !equalBytes(head.stateHash, state)) problems.push(`vp${r.id}: state hash differs from block ${ledger.stateBlockNumber}'s`)
    }
    return problems
  }

  /** State hash of each live correct replica (hex). */
  async stateHashes (): Promise<Map<number, string>> {
    const out = new Map<number, string>()
    for (const r of this.live()) out.set(r.id, toHex(await r.ledger!.getTempStateHash() ?? new Uint8Array(0)))
    return out
  }

  async stop (): Promise<void> {
    for (const r of this.replicas) await r.crash()
  }

  describe (): string {
    return this.replicas.map(r => {
      const c = r.up ? r.status() : undefined
      return `vp${r.id}${this.byzantine.has(r.id) ? '(byz)' : ''}: ${r.up ? 'up' : 'down'} height=${this.heights[r.id]}` +
        (c === undefined ? '' : ` view=${c.view}${c.activeView ? '' : '(changing)'} h=${c.h} lastExec=${c.lastExec} skip=${c.skipInProgress} outstanding=${r.consenter!.outstandingRequests}`)
    }).join('\n')
  }
}
