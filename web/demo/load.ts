// The demo's transaction load: a generator that submits `put` invocations at a set rate (or as
// fast as the network takes them, with a bound on what is in flight), and a tracker that turns
// commits into tx/s and submit-to-commit latency, one sample per second.
import type { BlockSummary } from '../app/chain.ts'
import type { DemoNetwork } from './network.ts'

export interface LoadSample {
  /** End of the one-second window (ms since epoch). */
  time: number
  /** Transactions committed (first seen in any replica's block) in that second. */
  txps: number
  /** Submit-to-commit latency of those transactions (ms). */
  p50?: number
  p95?: number
  inFlight: number
}

export class LoadTracker {
  private readonly pending = new Map<string, number>()
  private readonly seen = new Set<string>()
  private windowCount = 0
  private windowLatencies: number[] = []
  private timer?: ReturnType<typeof setInterval>
  readonly samples: LoadSample[] = []
  submitted = 0
  committed = 0
  private readonly unsubscribe: () => void

  constructor (private readonly net: DemoNetwork, private readonly onSample?: (s: LoadSample) => void) {
    this.unsubscribe = net.onBlock((_r, b) => { this.onBlock(b) })
    this.timer = setInterval(() => { this.roll() }, 1000)
  }

  get inFlight (): number { return this.pending.size }

  submittedTx (txid: string): void {
    this.submitted++
    if (!this.seen.has(txid)) {
      this.pending.set(txid, performance.now())
      return
    }
    // Committed before the submit call returned.
    this.committed++
    this.windowCount++
  }

  private onBlock (b: BlockSummary): void {
    const now = performance.now()
    for (const t of b.txs) {
      if (this.seen.has(t.txid)) continue
      this.seen.add(t.txid)
      if (this.seen.size > 200_000) this.seen.clear()
      const at = this.pending.get(t.txid)
      if (at === undefined) continue
      this.pending.delete(t.txid)
      this.committed++
      this.windowCount++
      this.windowLatencies.push(now - at)
    }
  }

  private roll (): void {
    const lat = this.windowLatencies.sort((a, b) => a - b)
    const q = (p: number): number | undefined => lat.length === 0 ? undefined : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]
    const s: LoadSample = { time: Date.now(), txps: this.windowCount, p50: q(0.5), p95: q(0.95), inFlight: this.pending.size }
    this.windowCount = 0
    this.windowLatencies = []
    this.samples.push(s)
    if (this.samples.length > 300) this.samples.shift()
    this.onSample?.(s)
  }

  /** Forgets submissions older than `ms` (lost with a crashed replica). */
  expire (ms: number): number {
    const cut = performance.now() - ms
    let n = 0
    for (const [id, at] of this.pending) if (at < cut) { this.pending.delete(id); n++ }
    return n
  }

  close (): void {
    clearInterval(this.timer)
    this.unsubscribe()
  }
}

export interface LoadOptions {
  /** Transactions per second; 0 = as fast as the network takes them. */
  rate: number
  /** Submitted but not yet committed transactions allowed at once. */
  maxInFlight?: number
  /** Distinct keys written (default 1000). */
  keys?: number
}

export class LoadGenerator {
  private running = false
  private n = 0
  errors = 0
  lastError?: string

  constructor (private readonly net: DemoNetwork, private readonly tracker: LoadTracker) {}

  get active (): boolean { return this.running }

  start (opts: LoadOptions): void {
    if (this.running) this.stop()
    this.running = true
    void this.loop(opts)
  }

  stop (): void { this.running = false }

  private async loop (opts: LoadOptions): Promise<void> {
    const maxInFlight = opts.maxInFlight ?? 3000
    const keys = opts.keys ?? 1000
    const tickMs = 20
    let credit = 0
    let last = performance.now()
    while (this.running) {
      const now = performance.now()
      credit = opts.rate > 0 ? Math.min(credit + (now - last) * opts.rate / 1000, opts.rate) : 250
      last = now
      const batch: Array<Promise<void>> = []
      while (credit >= 1 && this.tracker.inFlight + batch.length < maxInFlight) {
        credit--
        const i = ++this.n
        batch.push(this.net.submit(['put', `k${i % keys}`, `v${i}`]).then(txid => { this.tracker.submittedTx(txid) }, (err: Error) => {
          this.errors++
          this.lastError = err.message
        }))
      }
      await Promise.all(batch)
      if (this.tracker.inFlight >= maxInFlight) this.tracker.expire(30_000)
      await new Promise(resolve => setTimeout(resolve, tickMs))
    }
  }
}
