// Whether storage holds the demo network back: each replica's write-behind queue (what waits to
// go to IndexedDB) and how much of the time its flushes were under way, sampled once a second.
// Writers that had to wait for a flush, or flushes that run all the time while the queue still
// grows, mean IndexedDB limits the network. Flushes that run all the time alone do not: in a tab
// short of CPU a flush's wall time includes its wait for the page's thread.
import type { WriteBehindStore } from '../app/write-behind.ts'

export interface StorageReading {
  storage: 'memory' | 'indexeddb'
  /** Batches (a block, or a consensus-state update) and bytes queued for IndexedDB, all replicas. */
  pendingBatches: number
  pendingBytes: number
  /** Written to IndexedDB in the last second, all replicas: bytes and keys (ops queued, before merging). */
  bytesPerSecond: number
  opsPerSecond: number
  flushesPerSecond: number
  /** The largest share of the last second any replica's flushes were under way (0…1), and that replica. */
  busy: number
  busiest?: string
  /** Time writers waited for a flush in the last second (ms, summed over replicas). */
  waitedMs: number
  bottleneck: boolean
  /** One plain sentence for the user. */
  verdict: string
}

/** Busy share from which IndexedDB counts as the bottleneck. */
const BUSY_LIMIT = 0.8

interface Snapshot { at: number, stats: Array<WriteBehindStore['stats']>, pendingBytes: number }

export class StorageMeter {
  private readonly stores: Array<{ name: string, store: WriteBehindStore }> = []
  private last?: Snapshot
  private reading: StorageReading

  constructor (readonly storage: 'memory' | 'indexeddb') {
    this.reading = this.idle()
  }

  add (name: string, store: WriteBehindStore): void {
    this.stores.push({ name, store })
  }

  /** Everything queued, in IndexedDB (what a closing tab asks for). */
  async flush (): Promise<void> {
    await Promise.allSettled(this.stores.map(s => s.store.flush()))
  }

  /** Takes a reading over the time since the previous one (called once a second). */
  sample (now = performance.now()): StorageReading {
    let pendingBatches = 0
    let pendingBytes = 0
    for (const { store } of this.stores) {
      pendingBatches += store.pending.batches
      pendingBytes += store.pending.bytes
    }
    const snap: Snapshot = { at: now, stats: this.stores.map(s => ({ ...s.store.stats })), pendingBytes }
    const prev = this.last
    this.last = snap
    if (this.storage === 'memory' || prev === undefined || prev.stats.length !== snap.stats.length) return this.reading
    const dt = Math.max(1, now - prev.at)
    let busy = 0
    let busiest: string | undefined
    let bytes = 0
    let ops = 0
    let flushes = 0
    let waitedMs = 0
    snap.stats.forEach((s, i) => {
      const p = prev.stats[i]
      const share = Math.min(1, (s.flushMs - p.flushMs) / dt)
      if (share > busy) { busy = share; busiest = this.stores[i].name }
      bytes += s.bytes - p.bytes
      ops += s.ops - p.ops
      flushes += s.flushes - p.flushes
      waitedMs += s.waitMs - p.waitMs
    })
    const behind = busy >= BUSY_LIMIT && pendingBytes > prev.pendingBytes
    const bottleneck = behind || waitedMs > 0
    const pct = `${Math.round(busy * 100)}%`
    const verdict = bottleneck
      ? `storage is the bottleneck: IndexedDB flushes take ${pct} of the time${busiest === undefined ? '' : ` at ${busiest}`}${behind ? ' and the queue grows' : ''}${waitedMs > 0 ? `, and commits waited ${Math.round(waitedMs)} ms for them` : ''}`
      : flushes === 0 && pendingBatches === 0
        ? 'storage is idle: nothing to write'
        : `storage keeps up: IndexedDB flushes take ${pct} of the time at most; the limit is elsewhere (execution, hashing, messages)`
    this.reading = { storage: this.storage, pendingBatches, pendingBytes, bytesPerSecond: bytes * 1000 / dt, opsPerSecond: ops * 1000 / dt, flushesPerSecond: flushes * 1000 / dt, busy, busiest, waitedMs, bottleneck, verdict }
    return this.reading
  }

  get current (): StorageReading { return this.reading }

  private idle (): StorageReading {
    return {
      storage: this.storage,
      pendingBatches: 0,
      pendingBytes: 0,
      bytesPerSecond: 0,
      opsPerSecond: 0,
      flushesPerSecond: 0,
      busy: 0,
      waitedMs: 0,
      bottleneck: false,
      verdict: this.storage === 'memory' ? 'memory storage: nothing is written to disk, so storage costs nothing' : 'storage is idle: nothing to write'
    }
  }
}
