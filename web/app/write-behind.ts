// A write-behind layer over a slow store (IndexedDB: every transaction costs milliseconds, and
// a sync writes one batch per block; awaiting each halves a tab's sync rate). write() resolves
// as soon as the batch is queued; a background flush writes everything queued so far as ONE batch, in order. Reads see queued
// writes. What reaches the store is always a prefix of the batches in their order, each whole,
// so a tab closed mid-flush leaves a consistent but shorter chain, which the next sync extends.
//
// For a non-validating browser peer: a validator must not acknowledge what is not on disk
// (PBFT's persisted state assumes it), so the app's validator uses the store directly. The demo
// network's validators may use it: they all live in this one tab, a "crash" there keeps what
// was queued (as an OS keeps a killed process's writes), and a closed tab ends all of them.
import { compareBytes } from '../../src/crypto/bytes.ts'
import { batchOps, OpList, type BatchOp, type Bytes, type KVStore, type RangeOptions, type StoreBatch } from '../../src/storage/kv.ts'
import { beforeStart, inRange, pastEnd } from '../../src/storage/ranges.ts'
import { binaryKey as keyOf } from '../../src/storage/sorted-keys.ts'

/** One queued op; the overlay points at the newest op of each key (identity tells ops apart). */
interface Pending { key: Bytes, value?: Bytes }

export interface WriteBehindOptions {
  /** Queued ops beyond which write() waits for the flush (bounds memory and range-scan cost). */
  maxPendingOps?: number
  /** A flush failed (the error is also thrown by every later write). */
  onError?: (err: Error) => void
}

export class WriteBehindStore implements KVStore {
  readonly location: string
  private readonly overlay = new Map<string, Pending>()
  private queue: Pending[][] = []
  private queuedOps = 0
  private queuedBytes = 0
  private flushing?: Promise<void>
  private failure?: Error
  private readonly maxPending: number
  /**
   * What went to the inner store so far (for tests and the UI): flushes, batches, ops and bytes;
   * `flushMs` the time flushes were under way, `waitMs` the time write() was held back because
   * too much was queued (the store could not keep up).
   */
  readonly stats = { flushes: 0, batches: 0, ops: 0, bytes: 0, flushMs: 0, waitMs: 0 }

  constructor (private readonly inner: KVStore, private readonly opts: WriteBehindOptions = {}) {
    this.location = inner.location
    this.maxPending = opts.maxPendingOps ?? 20_000
  }

  async get (key: Bytes): Promise<Bytes | undefined> {
    const p = this.overlay.get(keyOf(key))
    if (p !== undefined) return p.value
    return await this.inner.get(key)
  }

  async getMany (keys: Bytes[]): Promise<(Bytes | undefined)[]> {
    const pending = keys.map(k => this.overlay.get(keyOf(k)))
    const missing = keys.filter((_, i) => pending[i] === undefined)
    const stored = await this.inner.getMany(missing)
    let j = 0
    return pending.map(p => p !== undefined ? p.value : stored[j++])
  }

  async readRanges (ranges: RangeOptions[]): Promise<[Bytes, Bytes][][]> {
    // The overlay as it is now, sorted once; each range's part of it wins over the store's.
    const mine = [...this.overlay.values()].sort((a, b) => compareBytes(a.key, b.key))
    const stored = await this.inner.readRanges(ranges)
    return ranges.map((r, i) => {
      let lo = 0
      let hi = mine.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (beforeStart(mine[mid].key, r)) lo = mid + 1
        else hi = mid
      }
      const out: [Bytes, Bytes][] = []
      const take = (p: Pending): void => { if (p.value !== undefined) out.push([p.key, p.value]) }
      let m = lo
      for (const [k, v] of stored[i]) {
        while (m < mine.length && compareBytes(mine[m].key, k) < 0) take(mine[m++])
        if (m < mine.length && compareBytes(mine[m].key, k) === 0) take(mine[m++])
        else out.push([k, v])
      }
      while (m < mine.length && !pastEnd(mine[m].key, r)) take(mine[m++])
      return out
    })
  }

  batch (): StoreBatch { return new OpList() }

  async write (written: BatchOp[] | StoreBatch): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    const ops = batchOps(written)
    if (ops.length === 0) return
    const batch: Pending[] = ops.map(op => op.type === 'put' ? { key: op.key.slice(), value: op.value.slice() } : { key: op.key.slice() })
    for (const p of batch) {
      this.overlay.set(keyOf(p.key), p)
      this.queuedBytes += p.key.byteLength + (p.value?.byteLength ?? 0)
    }
    this.queue.push(batch)
    this.queuedOps += batch.length
    this.startFlush()
    if (this.queuedOps > this.maxPending) {
      const t0 = performance.now()
      try {
        await this.flush()
      } finally {
        this.stats.waitMs += performance.now() - t0
      }
    }
  }

  private startFlush (): void {
    this.flushing ??= this.flushLoop().finally(() => { this.flushing = undefined })
  }

  private async flushLoop (): Promise<void> {
    // Let the writer queue a few more batches first: they go out together.
    await new Promise(resolve => setTimeout(resolve, 0))
    while (this.queue.length > 0 && this.failure === undefined) {
      const batches = this.queue
      this.queue = []
      const count = this.queuedOps
      const bytes = this.queuedBytes
      this.queuedOps = 0
      this.queuedBytes = 0
      // One transaction: only each key's last op matters (a sync rewrites the height key per block).
      const last = new Map<string, Pending>()
      for (const b of batches) for (const p of b) last.set(keyOf(p.key), p)
      const ops: BatchOp[] = []
      for (const p of last.values()) ops.push(p.value === undefined ? { type: 'del', key: p.key } : { type: 'put', key: p.key, value: p.value })
      const t0 = performance.now()
      try {
        await this.inner.write(ops)
      } catch (err) {
        this.failure = err as Error
        this.opts.onError?.(this.failure)
        return
      } finally {
        this.stats.flushMs += performance.now() - t0
      }
      this.stats.flushes++
      this.stats.batches += batches.length
      this.stats.ops += count
      this.stats.bytes += bytes
      // Keys whose newest op is now in the store need no overlay entry any more.
      for (const b of batches) {
        for (const p of b) {
          const k = keyOf(p.key)
          if (this.overlay.get(k) === p) this.overlay.delete(k)
        }
      }
    }
  }

  /** Resolves once everything written so far is in the inner store; rejects if a flush failed. */
  async flush (): Promise<void> {
    while (this.flushing !== undefined) await this.flushing
    if (this.queue.length > 0 && this.failure === undefined) {
      this.startFlush()
      await this.flush()
    }
    if (this.failure !== undefined) throw this.failure
  }

  get pendingOps (): number { return this.queuedOps + (this.flushing !== undefined ? 1 : 0) }

  /** Queued batches and their bytes, not yet handed to the inner store. */
  get pending (): { batches: number, bytes: number } { return { batches: this.queue.length, bytes: this.queuedBytes } }

  async * entries (range: RangeOptions): AsyncIterable<[Bytes, Bytes]> {
    // The overlay as it is now, in range and in order; its entries win over the store's.
    const reverse = range.reverse === true
    const mine = [...this.overlay.values()].filter(p => inRange(p.key, range))
    mine.sort((a, b) => reverse ? compareBytes(b.key, a.key) : compareBytes(a.key, b.key))
    const shadowed = new Set(mine.map(p => keyOf(p.key)))
    const limit = range.limit === undefined || range.limit < 0 ? Infinity : range.limit
    let given = 0
    let i = 0
    const before = (a: Bytes, b: Bytes): boolean => reverse ? compareBytes(a, b) > 0 : compareBytes(a, b) < 0
    const { limit: _limit, ...unlimited } = range
    for await (const [k, v] of this.inner.entries(unlimited)) {
      while (i < mine.length && before(mine[i].key, k)) {
        const p = mine[i++]
        if (p.value !== undefined) {
          if (given++ >= limit) return
          yield [p.key, p.value]
        }
      }
      if (shadowed.has(keyOf(k))) continue
      if (given++ >= limit) return
      yield [k, v]
    }
    while (i < mine.length) {
      const p = mine[i++]
      if (p.value !== undefined) {
        if (given++ >= limit) return
        yield [p.key, p.value]
      }
    }
  }

  async close (): Promise<void> {
    try {
      await this.flush()
    } finally {
      await this.inner.close()
    }
  }
}
