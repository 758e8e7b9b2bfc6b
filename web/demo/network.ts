// The in-tab demo network: N validators (vp0…vpN-1), each a full PeerNode (ledger, chaincode
// support, PBFT engine) from src/, wired over in-memory Chat links in this one tab. The links
// let the page watch every CONSENSUS message and inject faults: crash/restart a replica (its
// store outlives the crash), partition one, or make one byzantine (it forges digests).
// Platform-free on purpose (no DOM): a Node test can run it as it is.
import { unsandboxedInProcessRuntime } from '../../src/chaincode/in-process-runtime.ts'
import { loadConfig, withOverrides, type CoreConfig } from '../../src/config/index.ts'
import { replicaIdOf } from '../../src/consensus/validators.ts'
import { PeerNode } from '../../src/peer-node.ts'
import type { KVStore } from '../../src/storage/kv.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { systemRandom, systemScheduler, type Scheduler } from '../../src/util/scheduler.ts'
import type { BlockSummary } from '../app/chain.ts'
import { PeerFacade } from '../app/facade.ts'
import { ChaincodeSources } from '../app/sources.ts'
import { DEMO_USER, DemoCa } from './demo-ca.ts'
import { decodeConsensus, flowDetails, forge, withPbft, type FlowEvent } from './flow.ts'
import { DemoLinks } from './links.ts'

export interface DemoNetworkOptions {
  /** Validators (default 4; PBFT tolerates f = ⌊(N−1)/3⌋ faulty ones). */
  n?: number
  /** The chaincode the network runs and the load generator invokes (the map example). */
  chaincodeSource: string
  /** Each replica's store (default: memory). Opened once per replica; it survives crashes. */
  openStore?: (name: string) => Promise<KVStore>
  /** The replicas' time (the tab's, stretched while hidden); default the host's. */
  scheduler?: Scheduler
  /** PBFT settings (durations in ms). Defaults: Fabric's, with a 200 ms batch timeout. */
  pbft?: { batchSize?: number, batchTimeout?: number, requestTimeout?: number, viewChangeTimeout?: number, K?: number }
  /** Every CONSENSUS message on the wire (after a byzantine sender rewrote it). */
  onFlow?: (e: FlowEvent) => void
  /** Things worth telling the user: crashes, view changes, recoveries. */
  onNotice?: (text: string) => void
  /** Security enabled: a CA in this tab enrolls the validators (signed consensus) and the demo user (signed transactions). */
  security?: boolean
}

export interface ReplicaStatus {
  name: string
  index: number
  up: boolean
  partitioned: boolean
  byzantine: boolean
  height: number
  view?: number
  /** False while a view change is in progress at this replica. */
  activeView?: boolean
  lastExec?: number
  /** Low watermark (last stable checkpoint). */
  h?: number
  primary: boolean
  peers: number
}

export class DemoReplica {
  node?: PeerNode
  facade?: PeerFacade
  byzantine = false
  /** The height when it went down (shown while it is down). */
  lastHeight = 0

  /** What the replica's ledger opens: the raw store, except that close() leaves it open for a restart. */
  readonly store: KVStore

  constructor (readonly index: number, readonly name: string, readonly rawStore: KVStore) {
    this.store = surviving(rawStore)
  }

  get up (): boolean { return this.node !== undefined }

  attach (node: PeerNode, facade: PeerFacade): void {
    this.node = node
    this.facade = facade
  }

  async detach (): Promise<void> {
    const { node, facade } = this
    this.lastHeight = node?.height ?? this.lastHeight
    this.node = undefined
    this.facade = undefined
    facade?.close()
    await node?.stop()
  }
}

/** A store whose close() does nothing, so a "crashed" replica restarts on the same data. */
function surviving (store: KVStore): KVStore {
  return { location: store.location, get: k => store.get(k), getMany: ks => store.getMany(ks), batch: () => store.batch(), write: ops => store.write(ops), entries: r => store.entries(r), readRanges: rs => store.readRanges(rs), close: async () => {} }
}

export class DemoNetwork {
  readonly links = new DemoLinks()
  readonly replicas: DemoReplica[] = []
  readonly sources = new ChaincodeSources()
  readonly n: number
  chaincode = ''
  /** Views that some replica entered through a new-view message. */
  readonly views = new Set<number>([0])
  private stopped = false
  private readonly blockListeners = new Set<(replica: number, b: BlockSummary) => void>()
  private lastNotice = new Map<string, number>()
  /** The in-tab CA, with security. */
  private ca?: DemoCa

  private constructor (readonly options: DemoNetworkOptions) {
    this.n = options.n ?? 4
    if (this.n < 1 || this.n > 16) throw new Error('the demo network runs 1 to 16 validators')
    this.links.onSend = (from, to, msg) => this.onSend(from, to, msg)
  }

  /** Starts every replica and deploys the chaincode; resolves once every replica has it. */
  static async start (options: DemoNetworkOptions): Promise<DemoNetwork> {
    const net = new DemoNetwork(options)
    try {
      if (options.security === true) {
        net.ca = await DemoCa.start(await (options.openStore ?? memoryStore)('weft-demo-ca'), options.scheduler ?? systemScheduler)
        if (net.n > net.ca.validators) throw new Error(`with security the demo network runs at most ${net.ca.validators} validators (the CA's test_vpN users)`)
      }
      for (let i = 0; i < net.n; i++) {
        const name = `vp${i}`
        const store = await (options.openStore ?? memoryStore)(`weft-demo-${name}`)
        net.replicas.push(new DemoReplica(i, name, store))
      }
      // Everyone is reachable before anyone dials.
      for (const r of net.replicas) await net.create(r)
      for (const r of net.replicas) await r.node!.start()
      if (net.ca !== undefined) await net.replicas[0].node!.users!.login(DEMO_USER, net.ca.secret(DEMO_USER))
      const { name } = await net.replicas[0].facade!.deploy({ source: options.chaincodeSource, args: ['init'] }, { timeoutMs: 60_000, user: net.user })
      net.chaincode = name
      await net.waitUntil(() => net.replicas.every(r => r.facade !== undefined && r.node!.height >= 2), 30_000, 'every replica to commit the deploy')
      return net
    } catch (err) {
      await net.stop()
      throw err
    }
  }

  /** Who signs the demo's transactions: the demo user with security, else nobody. */
  get user (): string | undefined { return this.ca === undefined ? undefined : DEMO_USER }

  get security (): boolean { return this.ca !== undefined }

  /** Every block any replica commits or receives. */
  onBlock (listener: (replica: number, b: BlockSummary) => void): () => void {
    this.blockListeners.add(listener)
    return () => this.blockListeners.delete(listener)
  }

  private notice (text: string): void {
    this.options.onNotice?.(text)
  }

  /** At the first start each replica dials those before it (no two dial each other at once); after a restart, all. */
  private config (r: DemoReplica, restart: boolean): CoreConfig {
    const p = this.options.pbft ?? {}
    return withOverrides(loadConfig(), {
      peer: {
        id: r.name,
        networkId: 'weft-demo',
        validator: { enabled: true, consensus: { plugin: 'pbft' } },
        discovery: {
          rootnode: this.replicas.filter(x => x !== r && (restart || x.index < r.index)).map(x => x.name).join(','),
          persist: false,
          touchPeriod: 1000
        }
      },
      pbft: {
        general: {
          K: p.K ?? 10,
          batchsize: p.batchSize ?? 500,
          timeout: { batch: p.batchTimeout ?? 200, request: p.requestTimeout ?? 2000, viewchange: p.viewChangeTimeout ?? 2000, resendviewchange: p.viewChangeTimeout ?? 2000 }
        }
      },
      // Fabric's code defaults (core.yaml's 1000003 / 5 make every block hash twice as many tree nodes).
      ledger: { state: { dataStructure: { configs: { numBuckets: 10009, maxGroupingAtEachLevel: 10 } } } },
      rest: { enabled: false },
      web: { enabled: false },
      security: this.ca?.settings(r.index) ?? { enabled: false }
    })
  }

  private async create (r: DemoReplica, restart = false): Promise<void> {
    const config = this.config(r, restart)
    const node = await PeerNode.create(config, {
      store: r.store,
      transports: [this.links.transport(r.name)],
      scheduler: this.options.scheduler ?? systemScheduler,
      random: systemRandom,
      chaincodeRuntime: unsandboxedInProcessRuntime(),
      packageChaincode: this.sources.packageChaincode,
      identity: { validators: this.replicas.map(x => ({ name: x.name, peerId: x.name })) },
      security: await this.ca?.enroll(config)
    })
    node.onStop(reason => {
      if (reason === undefined) return
      this.notice(`${r.name} stopped: ${reason.message}`)
      void this.crash(r.index)
    })
    const facade = new PeerFacade(node, this.sources)
    facade.onBlock(b => { for (const l of this.blockListeners) l(r.index, b) })
    r.attach(node, facade)
  }

  private onSend (from: string, to: string, msg: Parameters<NonNullable<DemoLinks['onSend']>>[2]): ReturnType<NonNullable<DemoLinks['onSend']>> {
    const sender = this.replicas[replicaIdOf(from)]
    const watching = this.options.onFlow !== undefined
    if (!watching && sender?.byzantine !== true) return msg
    const c = decodeConsensus(msg)
    if (c === undefined) return msg
    let out = msg
    let forged = false
    if (sender?.byzantine === true && c.pbft !== undefined) {
      const lie = forge(c.pbft, replicaIdOf(to))
      if (lie !== undefined) {
        out = withPbft(msg, lie)
        forged = true
      }
    }
    if (c.pbft?.type === 'newView' && !this.views.has(c.pbft.msg.view)) {
      this.views.add(c.pbft.msg.view)
      this.notice(`view change: ${from} announces view ${c.pbft.msg.view} (primary vp${c.pbft.msg.view % this.n})`)
    }
    if (c.pbft?.type === 'viewChange') this.noticeOnce(`vc:${from}:${c.pbft.msg.view}`, `${from} asks for view ${c.pbft.msg.view}`)
    this.options.onFlow?.({ time: Date.now(), from: replicaIdOf(from), to: replicaIdOf(to), kind: c.kind, ...flowDetails(c.pbft), forged })
    return out
  }

  private noticeOnce (key: string, text: string): void {
    if (this.lastNotice.has(key)) return
    this.lastNotice.set(key, Date.now())
    if (this.lastNotice.size > 500) this.lastNotice.delete(this.lastNotice.keys().next().value!)
    this.notice(text)
  }

  private replica (i: number): DemoReplica {
    const r = this.replicas[i]
    if (r === undefined) throw new Error(`no replica vp${i} (the network has ${this.n})`)
    return r
  }

  /** Pulls the plug: links are aborted first (no goodbye reaches anyone), then the peer stops. */
  async crash (i: number): Promise<void> {
    const r = this.replica(i)
    if (!r.up) return
    this.links.cut(r.name, `${r.name} crashed`)
    await r.detach()
    this.notice(`${r.name} crashed`)
  }

  /** Starts the replica again on its surviving store; it catches up through PBFT and state transfer. */
  async restart (i: number): Promise<void> {
    const r = this.replica(i)
    if (r.up || this.stopped) return
    await this.create(r, true)
    await r.node!.start()
    this.notice(`${r.name} restarted at height ${r.node!.height}`)
  }

  isolate (i: number): void {
    const r = this.replica(i)
    this.links.isolate(r.name)
    this.notice(`${r.name} partitioned from the others`)
  }

  heal (i: number): void {
    const r = this.replica(i)
    this.links.heal(r.name)
    this.notice(`${r.name} reconnected`)
  }

  setByzantine (i: number, on: boolean): void {
    const r = this.replica(i)
    r.byzantine = on
    this.notice(on ? `${r.name} turns byzantine: it forges the digests of its pre-prepares, prepares and commits` : `${r.name} is honest again`)
  }

  /**
   * The view most live honest replicas are in, and its primary once that view is in effect: a
   * quorum (2f+1) of reachable replicas has it active and its primary is up. While a view change
   * is under way, or the primary is down, there is no primary to show.
   */
  currentView (): { view: number, primary?: number } {
    const statuses = this.replicas.filter(r => r.up && !r.byzantine).map(r => ({ r, pbft: r.node?.consensusStatus()?.pbft }))
    const count = new Map<number, number>()
    for (const { pbft } of statuses) count.set(pbft?.view ?? 0, (count.get(pbft?.view ?? 0) ?? 0) + 1)
    let view = 0
    let best = -1
    for (const [v, c] of count) if (c > best || (c === best && v > view)) { view = v; best = c }
    const primary = view % this.n
    const active = statuses.filter(({ r, pbft }) => pbft?.view === view && pbft.activeView && !this.links.isolated.has(r.name)).length
    const inEffect = active >= this.quorum().needed && this.reachable().some(r => r.index === primary)
    return { view, primary: inEffect ? primary : undefined }
  }

  /** Reachable replicas against the 2f+1 PBFT needs to order anything; below it the network has stalled. */
  quorum (): { live: number, needed: number, stalled: boolean } {
    const needed = 2 * Math.floor((this.n - 1) / 3) + 1
    const live = this.reachable().length
    return { live, needed, stalled: live < needed }
  }

  status (): ReplicaStatus[] {
    return this.replicas.map(r => {
      const c = r.node?.consensusStatus()?.pbft
      return {
        name: r.name,
        index: r.index,
        up: r.up,
        partitioned: this.links.isolated.has(r.name),
        byzantine: r.byzantine,
        height: r.node?.height ?? r.lastHeight,
        view: c?.view,
        activeView: c?.activeView,
        lastExec: c?.lastExec,
        h: c?.h,
        primary: c?.primary === r.index,
        peers: r.node?.connections().length ?? 0
      }
    })
  }

  /** Live replicas a client may submit to (not partitioned). */
  reachable (): DemoReplica[] {
    return this.replicas.filter(r => r.up && !this.links.isolated.has(r.name))
  }

  /** Submits `put key value` through replica `via` (default: round robin over reachable replicas); resolves with the txid once accepted. */
  private rr = 0
  async submit (args: string[], via?: number): Promise<string> {
    const targets = via === undefined ? this.reachable() : [this.replica(via)]
    if (targets.length === 0) throw new Error('no replica is reachable')
    const r = targets[this.rr++ % targets.length]
    if (r.facade === undefined) throw new Error(`${r.name} is down`)
    const { txid } = await r.facade.invoke(this.chaincode, args, { wait: false, user: this.user })
    return txid
  }

  /** Whether every live honest replica's ledger holds each txid. */
  async committedEverywhere (txids: string[], among?: number[]): Promise<boolean> {
    const rs = this.replicas.filter(r => r.up && !r.byzantine && (among === undefined || among.includes(r.index)))
    for (const r of rs) {
      for (const id of txids) if (await r.node!.getTransactionByID(id) === undefined) return false
    }
    return rs.length > 0
  }

  async waitUntil (cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const until = Date.now() + timeoutMs
    while (!(await cond())) {
      if (this.stopped) throw new Error(`demo network stopped while waiting for ${what}`)
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const r of this.replicas) this.links.cut(r.name, 'demo network stopped')
    await Promise.allSettled(this.replicas.map(r => r.detach()))
    await Promise.allSettled(this.replicas.map(r => r.rawStore.close()))
  }
}
