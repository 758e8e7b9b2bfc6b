// The demo network as the page drives it (UI buttons and window.weft.demo alike): start/stop,
// faults, load, and what the pictures need (recent message flow, per-replica counters, a log).
import { errorMessage } from '../../src/util/errors.ts'
import type { Scheduler } from '../../src/util/scheduler.ts'
import { exampleSource } from '../app/sources.ts'
import { WriteBehindStore } from '../app/write-behind.ts'
import { destroyIndexedDB, openIndexedDB } from '../storage.ts'
import { FLOW_KINDS, type FlowEvent, type FlowKind } from './flow.ts'
import { LoadGenerator, LoadTracker, type LoadSample } from './load.ts'
import { DemoNetwork, type ReplicaStatus } from './network.ts'
import { StorageMeter, type StorageReading } from './storage-meter.ts'

export interface DemoStartOptions {
  n?: number
  storage?: 'memory' | 'indexeddb'
  /** A CA in this tab enrolls the validators and a demo user: signed consensus and signed transactions. */
  security?: boolean
  /** PBFT timeouts etc. (ms), see DemoNetworkOptions.pbft. */
  pbft?: { batchSize?: number, batchTimeout?: number, requestTimeout?: number, viewChangeTimeout?: number, K?: number }
}

export interface DemoStatus {
  running: boolean
  starting: boolean
  n: number
  storage: 'memory' | 'indexeddb'
  /** Whether the network runs with security (the in-tab CA, signed consensus and transactions). */
  security: boolean
  chaincode: string
  view: number
  /** The primary of `view` once that view is in effect (quorum active, primary up); undefined meanwhile. */
  primary?: number
  /** Reachable replicas against the 2f+1 needed; `stalled` when fewer. */
  quorum: { live: number, needed: number, stalled: boolean }
  /** Views entered by a new-view message so far (0 included). */
  views: number[]
  replicas: ReplicaStatus[]
  load: { active: boolean, rate: number, submitted: number, committed: number, inFlight: number, errors: number, lastError?: string, last?: LoadSample }
  /** Messages sent per replica and kind since start. */
  sent: Array<Record<FlowKind, number>>
  forged: number
  /** Whether IndexedDB keeps up (a reading a second). */
  storageMeter: StorageReading
}

export interface BenchResult { seconds: number, committed: number, txps: number, p50?: number, p95?: number }

const FLOW_KEEP = 6000

export class DemoController {
  net?: DemoNetwork
  tracker?: LoadTracker
  gen?: LoadGenerator
  starting = false
  storage: 'memory' | 'indexeddb' = 'memory'
  rate = 0
  readonly flow: FlowEvent[] = []
  sent: Array<Record<FlowKind, number>> = []
  forged = 0
  readonly log: Array<{ time: number, text: string }> = []
  meter = new StorageMeter('memory')
  private meterTimer?: ReturnType<typeof setInterval>
  private readonly listeners = new Set<() => void>()
  private readonly sampleListeners = new Set<(s: LoadSample) => void>()

  constructor (private readonly scheduler?: Scheduler) {
    // What the replicas queued goes to IndexedDB before the tab goes away.
    addEventListener('pagehide', () => { void this.meter.flush() })
    document.addEventListener('visibilitychange', () => { if (document.hidden) void this.meter.flush() })
  }

  onChange (l: () => void): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  onSample (l: (s: LoadSample) => void): () => void {
    this.sampleListeners.add(l)
    return () => this.sampleListeners.delete(l)
  }

  private changed (): void { for (const l of this.listeners) l() }

  private note (text: string): void {
    this.log.unshift({ time: Date.now(), text })
    this.log.length = Math.min(this.log.length, 200)
    this.changed()
  }

  private require (): DemoNetwork {
    if (this.net === undefined) throw new Error('the demo network is not running: start it first')
    return this.net
  }

  async start (opts: DemoStartOptions = {}): Promise<void> {
    if (this.net !== undefined || this.starting) throw new Error('the demo network is already running')
    this.starting = true
    this.changed()
    const n = opts.n ?? 4
    this.storage = opts.storage ?? 'memory'
    this.flow.length = 0
    this.sent = Array.from({ length: n }, () => Object.fromEntries(FLOW_KINDS.map(k => [k, 0])) as Record<FlowKind, number>)
    this.forged = 0
    try {
      if (this.storage === 'indexeddb') {
        // A fresh network each time: the demo's chains from an earlier start are dropped.
        for (const name of [...Array.from({ length: n }, (_, i) => `vp${i}`), 'ca']) await destroyIndexedDB(`weft-demo-${name}`).catch(() => {})
      }
      this.note(`starting ${n} validators (PBFT, ${this.storage} storage${opts.security === true ? ', security: a CA in this tab' : ''})…`)
      const started = Date.now()
      const meter = this.meter = new StorageMeter(this.storage)
      // Each replica writes through a write-behind queue: blocks that pile up while one is
      // written go out together, as one IndexedDB record (web/storage.ts).
      const openStore = async (name: string): Promise<WriteBehindStore> => {
        const store = new WriteBehindStore(await openIndexedDB(name), { onError: err => { this.note(`${name}: writing to IndexedDB failed: ${errorMessage(err)}`) } })
        meter.add(name.replace(/^weft-demo-/, ''), store)
        return store
      }
      this.net = await DemoNetwork.start({
        n,
        chaincodeSource: await exampleSource('map'),
        openStore: this.storage === 'indexeddb' ? openStore : undefined,
        scheduler: this.scheduler,
        pbft: opts.pbft,
        security: opts.security,
        onFlow: e => { this.recordFlow(e) },
        onNotice: text => { this.note(text) }
      })
      this.tracker = new LoadTracker(this.net, s => { for (const l of this.sampleListeners) l(s) })
      this.gen = new LoadGenerator(this.net, this.tracker)
      meter.sample()
      this.meterTimer = setInterval(() => { meter.sample() }, 1000)
      this.note(`network up in ${Date.now() - started} ms; chaincode map deployed as ${this.net.chaincode.slice(0, 16)}…`)
    } finally {
      this.starting = false
      this.changed()
    }
  }

  private recordFlow (e: FlowEvent): void {
    this.flow.push(e)
    if (this.flow.length > FLOW_KEEP) this.flow.splice(0, this.flow.length - FLOW_KEEP / 2)
    const row = this.sent[e.from]
    if (row !== undefined) row[e.kind]++
    if (e.forged === true) this.forged++
  }

  async stop (): Promise<void> {
    this.gen?.stop()
    this.tracker?.close()
    clearInterval(this.meterTimer)
    const net = this.net
    this.net = undefined
    this.gen = undefined
    this.tracker = undefined
    await net?.stop()
    if (net !== undefined) this.note('demo network stopped')
  }

  /** Submits `count` put transactions (round robin, or all through replica `via`); resolves with their txids once accepted. */
  async submit (count: number, via?: number): Promise<string[]> {
    const net = this.require()
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const txid = await net.submit(['put', `demo-${Date.now().toString(36)}-${i}`, String(i)], via === undefined ? undefined : via)
      this.tracker?.submittedTx(txid)
      ids.push(txid)
    }
    return ids
  }

  async waitCommitted (txids: string[], timeoutMs = 30_000): Promise<void> {
    const net = this.require()
    await net.waitUntil(() => net.committedEverywhere(txids), timeoutMs, `${txids.length} transactions committed on every live replica`)
  }

  async crash (i: number): Promise<void> { await this.require().crash(i); this.changed() }
  async restart (i: number): Promise<void> { await this.require().restart(i); this.changed() }
  partition (i: number): void { this.require().isolate(i); this.changed() }
  heal (i: number): void { this.require().heal(i); this.changed() }
  byzantine (i: number, on: boolean): void { this.require().setByzantine(i, on); this.changed() }

  /** Starts the load generator at `rate` tx/s (0 = as fast as the network takes them), or stops it (null). */
  load (rate: number | null): void {
    this.require()
    const gen = this.gen!
    if (rate === null) {
      gen.stop()
      this.note('load generator stopped')
    } else {
      this.rate = rate
      gen.start({ rate })
      this.note(`load generator: ${rate === 0 ? 'as fast as possible' : `${rate} tx/s`}`)
    }
    this.changed()
  }

  /** Runs the load generator flat out for `seconds` and reports committed tx/s (a benchmark: printed, not judged). */
  async bench (seconds = 10, warmupSeconds = 2): Promise<BenchResult> {
    this.require()
    const tracker = this.tracker!
    this.gen!.start({ rate: 0 })
    await new Promise(resolve => setTimeout(resolve, warmupSeconds * 1000))
    const from = tracker.committed
    const lat: number[] = []
    const stop = this.onSample(s => { if (s.p50 !== undefined) lat.push(s.p50) })
    const t0 = performance.now()
    await new Promise(resolve => setTimeout(resolve, seconds * 1000))
    const committed = tracker.committed - from
    const dt = (performance.now() - t0) / 1000
    stop()
    this.gen!.stop()
    lat.sort((a, b) => a - b)
    return { seconds: dt, committed, txps: committed / dt, p50: lat[Math.floor(lat.length / 2)], p95: lat[Math.floor(lat.length * 0.95)] }
  }

  status (): DemoStatus {
    const net = this.net
    const t = this.tracker
    const cur = net?.currentView() ?? { view: 0, primary: undefined }
    return {
      running: net !== undefined,
      starting: this.starting,
      n: net?.n ?? 0,
      storage: this.storage,
      security: net?.security ?? false,
      chaincode: net?.chaincode ?? '',
      view: cur.view,
      primary: cur.primary,
      quorum: net?.quorum() ?? { live: 0, needed: 0, stalled: false },
      views: net === undefined ? [] : [...net.views].sort((a, b) => a - b),
      replicas: net?.status() ?? [],
      load: {
        active: this.gen?.active ?? false,
        rate: this.rate,
        submitted: t?.submitted ?? 0,
        committed: t?.committed ?? 0,
        inFlight: t?.inFlight ?? 0,
        errors: this.gen?.errors ?? 0,
        lastError: this.gen?.lastError,
        last: t?.samples.at(-1)
      },
      sent: this.sent,
      forged: this.forged,
      storageMeter: this.meter.current
    }
  }
}
