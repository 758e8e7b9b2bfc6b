import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { equalBytes, toHex } from '../../src/crypto/bytes.ts'
import { defaultPbftConfig, validatePbftConfig, type PbftConfig } from '../../src/consensus/pbft/config.ts'
import type { Response } from '../../src/protos/fabric_pb.ts'
import { kvChaincodeName, kvDeploy, kvInvoke } from './kv-chaincode.ts'
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
 * N simulated validators (whole peers) on one clock and one seeded network. Safety is checked on
 * every block any correct replica writes: one hash per height across the cluster.
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
        onFatal: (r, err) => { if (!this.byzantine.has(r)) this.fatals.push(`vp${r}: ${err.message}`) }
      }))
    }
  }

  /** Boots every replica, waits until each chats with all the others, and deploys the chaincode (block 1). */
  async start (): Promise<this> {
    for (const r of this.replicas) await r.boot()
    await this.reconnect()
    const deploy = this.replicas[0].processTransaction(kvDeploy(timestampFromMs(this.sched.now())))
    if (!await this.runUntil(() => this.converged([kvChaincodeName]), 60_000)) {
      throw new Error(`seed ${this.opts.seed}: the chaincode deploy did not commit\n${this.describe()}`)
    }
    await deploy
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

  /** Every replica that runs chats with every other it can reach. */
  connected (): boolean {
    const up = this.replicas.filter(r => r.up && !r.halted)
    return up.every(r => {
      const chats = new Set(r.node!.connections().map(c => c.name))
      return up.every(o => o === r || !this.net.connected(r.id, o.id) || chats.has(o.name))
    })
  }

  /** Runs until connected(), as after a start or a restart. */
  async reconnect (): Promise<void> {
    if (!await this.runUntil(() => this.connected(), 10_000)) throw new Error(`seed ${this.opts.seed}: the replicas did not connect\n${this.describe()}`)
  }

  correct (): SimReplica[] { return this.replicas.filter(r => !this.byzantine.has(r.id)) }
  live (): SimReplica[] { return this.correct().filter(r => r.up && !r.halted) }

  /** A client's invoke `key=value` handed to replica `to`; returns its txid. */
  submit (to: number, key?: string, value?: string): string {
    const { txid, response } = this.client(to, key, value)
    response.catch(() => {})
    return txid
  }

  /** Like submit, with the peer's answer: SUCCESS once consensus took the transaction, FAILURE when it refused it. */
  client (to: number, key?: string, value?: string): { txid: string, response: Promise<Response> } {
    const n = ++this.txCount
    const txid = `tx${n}`
    const tx = kvInvoke(txid, `${key ?? `k${n % 7}`}=${value ?? `v${n}`}`, timestampFromMs(this.sched.now()))
    return { txid, response: this.replicas[to].processTransaction(tx) }
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
      if (r.stateBlock !== h - 1) return false
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
      const { stateBlock, stateHash } = await r.node!.head()
      const block = await r.block(stateBlock)
      if (block === undefined || !equalBytes(block.stateHash, stateHash)) problems.push(`vp${r.id}: state hash differs from block ${stateBlock}'s`)
    }
    return problems
  }

  /** State hash of each live correct replica (hex). */
  async stateHashes (): Promise<Map<number, string>> {
    const out = new Map<number, string>()
    for (const r of this.live()) out.set(r.id, toHex((await r.node!.head()).stateHash))
    return out
  }

  async stop (): Promise<void> {
    for (const r of this.replicas) await r.crash()
  }

  describe (): string {
    return this.replicas.map(r => {
      const c = r.up ? r.status() : undefined
      return `vp${r.id}${this.byzantine.has(r.id) ? '(byz)' : ''}: ${r.up ? 'up' : 'down'} height=${this.heights[r.id]}` +
        (c === undefined ? '' : ` view=${c.view}${c.activeView ? '' : '(changing)'} h=${c.h} lastExec=${c.lastExec} skip=${c.skipInProgress} outstanding=${c.outstandingRequests}`)
    }).join('\n')
  }
}
