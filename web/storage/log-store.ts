// The browser's KVStore on IndexedDB as a log of few, large records: Chromium's IndexedDB costs
// about 120 µs a record whatever its size, and a ledger block is thousands of keys.
//
// On disk (database `weft-log-NAME`): object store `log`, one record per group of write()
// calls (a batch record, records.ts) under a rising sequence number, and object store
// `values`, under the same number, the group's values too large to keep in memory; both in
// one transaction, so a batch is wholly in the log or not at all. Every so often the whole store
// is written as a snapshot (snapshot.ts) that replaces the batch records before it, and the
// values records nothing points into any more are deleted with it. Opening reads the snapshot
// and replays the log after it (replay.ts).
//
// In memory: every key (key-index.ts), with its value when that is small (`inlineMax`, 1 KB);
// a larger value (a block) is kept as a reference into its values record and read back on
// demand, the last few values records read or written kept in a cache (value-cache.ts).
import { batchOps, OpList, StorageError, type BatchOp, type Bytes, type KVStore, type RangeOptions, type StoreBatch } from '../../src/storage/kv.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { createLogger } from '../../src/util/logger.ts'
import { transact, writeError } from './idb.ts'
import { KeyIndex, type Entry } from './key-index.ts'
import { packBatch, readBatch, type ValueRef } from './records.ts'
import { replayLog } from './replay.ts'
import { emptyMeta, loadSnapshot, saveSnapshot, type Meta } from './snapshot.ts'
import { ValueCache } from './value-cache.ts'

const log = createLogger('storage')

export interface LogStoreOptions {
  /** Values up to this size are held in memory; larger ones are read from IndexedDB when asked for. */
  inlineMax?: number
  /** Write a snapshot once the log since the last holds this many ops and at least as many as there are keys. */
  snapshotAfterOps?: number
  /** Bytes of values records kept in memory for reading large values. */
  cacheBytes?: number
}

interface Queued { ops: BatchOp[], bytes: number, resolve: () => void, reject: (err: unknown) => void }

/** Writes of about this many bytes, queued behind a transaction, go out in one record. */
const GROUP_BYTES = 8 << 20

export class LogStore implements KVStore {
  readonly location: string
  private readonly keys = new KeyIndex()
  /** Batch records in the log, and values records, by sequence number. */
  private records = new Set<number>()
  private valueRecords = new Set<number>()
  private nextSeq = 1
  private meta = emptyMeta()
  private opsSinceSnapshot = 0
  private queue: Queued[] = []
  private writing?: Promise<void>
  /** Reads that may still fetch a values record: a snapshot then leaves every one in place. */
  private readers = 0
  private readonly cache: ValueCache
  private closed = false
  readonly inlineMax: number
  private readonly snapshotAfterOps: number
  /** What went to IndexedDB (tests and diagnostics): records, write() calls in them, ops, bytes, ms transactions were under way, snapshots. */
  readonly stats = { records: 0, batches: 0, ops: 0, bytes: 0, writeMs: 0, snapshots: 0 }

  constructor (private readonly db: IDBDatabase, private readonly unlock: () => void, name: string, opts: LogStoreOptions) {
    this.location = `indexeddb:${name}`
    this.inlineMax = opts.inlineMax ?? 1024
    this.snapshotAfterOps = opts.snapshotAfterOps ?? 50_000
    this.cache = new ValueCache(db, this.location, opts.cacheBytes ?? 32 << 20)
  }

  /** Keys held, bytes of values held in memory, bytes of values records cached; batch and values records on disk. */
  get memory (): { keys: number, valueBytes: number, cacheBytes: number, records: number, valueRecords: number } {
    return { keys: this.keys.size, valueBytes: this.keys.valueBytes(), cacheBytes: this.cache.bytes, records: this.records.size, valueRecords: this.valueRecords.size }
  }

  // ------------------------------------------------------------------ reads

  async get (key: Bytes): Promise<Bytes | undefined> {
    this.checkOpen()
    const e = this.keys.get(key)
    if (e === undefined) return undefined
    return e.value ?? await this.reading(() => this.fetch(e.ref!))
  }

  async getMany (keys: Bytes[]): Promise<(Bytes | undefined)[]> {
    this.checkOpen()
    return await this.values(keys.map(k => this.keys.get(k)))
  }

  async readRanges (ranges: RangeOptions[]): Promise<[Bytes, Bytes][][]> {
    this.checkOpen()
    const found = ranges.map(r => this.keys.range({ ...r, reverse: false, limit: undefined }))
    const values = await this.values(found.flat())
    let i = 0
    return found.map(es => es.map(e => [e.key, values[i++]!]))
  }

  async * entries (range: RangeOptions): AsyncIterable<[Bytes, Bytes]> {
    this.checkOpen()
    // The entries as they are now: later writes replace entries, they do not change them.
    const found = this.keys.range(range)
    this.readers++
    try {
      for (let i = 0; i < found.length; i += 256) {
        const part = found.slice(i, i + 256)
        const values = await this.values(part)
        for (let j = 0; j < part.length; j++) yield [part[j].key, values[j]!]
      }
    } finally {
      this.readers--
    }
  }

  private async values (found: Array<Entry | undefined>): Promise<(Bytes | undefined)[]> {
    if (found.every(e => e === undefined || e.value !== undefined)) return found.map(e => e?.value)
    return await this.reading(async () => await Promise.all(found.map(e => e === undefined ? undefined : e.value ?? this.fetch(e.ref!))))
  }

  private async reading<T> (fn: () => Promise<T>): Promise<T> {
    this.readers++
    try { return await fn() } finally { this.readers-- }
  }

  private async fetch (ref: ValueRef): Promise<Bytes> {
    const rec = await this.cache.get(ref.seq)
    return rec.slice(ref.off, ref.off + ref.len)
  }

  // ------------------------------------------------------------------ writes

  /** Collected: a write goes to IndexedDB whole, in one record. */
  batch (): StoreBatch { return new OpList() }

  /** Resolves once the ops are in IndexedDB: writes queued behind a transaction go out together, in one record. */
  async write (batch: BatchOp[] | StoreBatch): Promise<void> {
    this.checkOpen()
    const ops = batchOps(batch)
    if (ops.length === 0) return
    let bytes = 0
    for (const op of ops) bytes += op.key.byteLength + (op.type === 'put' ? op.value.byteLength : 0)
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, bytes, resolve, reject })
      this.writing ??= this.drain().finally(() => { this.writing = undefined })
    })
  }

  private async drain (): Promise<void> {
    while (this.queue.length > 0) {
      let bytes = 0
      let n = 0
      while (n < this.queue.length && (n === 0 || bytes + this.queue[n].bytes <= GROUP_BYTES)) bytes += this.queue[n++].bytes
      const group = this.queue.splice(0, n)
      const t0 = performance.now()
      let packed: { rec: Uint8Array, values?: Uint8Array }
      const seq = this.nextSeq
      try {
        const p = packed = packBatch(group.map(g => g.ops), this.inlineMax)
        // 'relaxed', as every write of the log: atomic all the same; only the flush to disk before
        // oncomplete is skipped (a tab crash loses nothing, a power cut may lose the last writes).
        await transact(this.db, ['log', 'values'], tx => {
          tx.objectStore('log').put(p.rec, seq)
          if (p.values !== undefined) tx.objectStore('values').put(p.values, seq)
        }, 'relaxed')
      } catch (err) {
        const e = writeError(err, this.location)
        for (const g of group) g.reject(e)
        continue
      } finally {
        this.stats.writeMs += performance.now() - t0
      }
      this.nextSeq = seq + 1
      this.records.add(seq)
      this.apply(seq, packed.rec)
      if (packed.values !== undefined) {
        this.valueRecords.add(seq)
        this.cache.remember(seq, packed.values)
      }
      this.stats.records++
      this.stats.batches += group.length
      this.stats.bytes += packed.rec.byteLength + (packed.values?.byteLength ?? 0)
      for (const g of group) g.resolve()
      if (this.opsSinceSnapshot >= Math.max(this.snapshotAfterOps, this.keys.size)) {
        await this.snapshot().catch((err: unknown) => { log.warn(`${this.location}: writing a snapshot failed (the log grows until one succeeds): ${errorMessage(err)}`) })
      }
    }
  }

  /** Applies a batch record (written now, or replayed on open) to the keys in memory. */
  private apply (seq: number, rec: Uint8Array): void {
    let ops = 0
    readBatch(rec, (key, value, off, len) => {
      ops++
      if (value !== undefined) this.keys.set(key, { key: key.slice(), value: value.slice() })
      else if (off !== undefined && len !== undefined) this.keys.set(key, { key: key.slice(), ref: { seq, off, len } })
      else this.keys.set(key, undefined)
    })
    this.opsSinceSnapshot += ops
    this.stats.ops += ops
  }

  /** Replaces the log so far with a snapshot, and drops the values records no value lies in any more. */
  private async snapshot (): Promise<void> {
    // A read under way may still fetch any values record: then they all stay, until the next snapshot.
    const dropValues = this.readers > 0 ? [] : [...this.valueRecords].filter(s => !this.keys.referenced(s))
    this.meta = await saveSnapshot(this.db, this.meta, this.nextSeq - 1, this.keys.all(), dropValues)
    this.opsSinceSnapshot = 0
    this.stats.snapshots++
    this.records.clear()
    for (const s of dropValues) {
      this.valueRecords.delete(s)
      this.cache.drop(s)
    }
  }

  // ------------------------------------------------------------------ open

  /** Reads the snapshot `meta` names and replays the log after it (once, by openIndexedDB). */
  async load (meta: Meta): Promise<void> {
    this.meta = meta
    await loadSnapshot(this.db, this.location, meta, e => { this.keys.set(e.key, 'ref' in e ? { key: e.key.slice(), ref: e.ref } : { key: e.key.slice(), value: e.value.slice() }) })
    const { records, valueRecords } = await replayLog(this.db, this.location, meta.lastSeq, (seq, rec) => { this.apply(seq, rec) })
    this.records = records
    this.valueRecords = valueRecords
    let last = meta.lastSeq
    for (const s of [...records, ...valueRecords]) last = Math.max(last, s)
    this.nextSeq = last + 1
    this.stats.ops = 0
  }

  private checkOpen (): void {
    if (this.closed) throw new StorageError('NOT_OPEN', `database ${this.location} is closed`)
  }

  async close (): Promise<void> {
    if (this.closed) return
    while (this.writing !== undefined) await this.writing
    this.closed = true
    this.db.close()
    this.unlock()
  }
}
