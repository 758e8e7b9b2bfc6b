// The browser's KVStore on IndexedDB as a log of few, large records: Chromium's IndexedDB costs
// about 120 µs a record whatever its size, and a ledger block is thousands of keys.
//
// On disk (database `weft-log-NAME`): object store `log`, one record per group of write()
// calls (a batch record, storage-records.ts) under a rising sequence number, and object store
// `values`, under the same number, the group's values too large to keep in memory; both in
// one transaction, so a batch is wholly in the log or not at all. Object store `snapshot`:
// the whole store as of a log position in chunks of a few MB, written (with `meta`, which
// names the chunks and the position, and with the deletion of the batch records it replaces
// and of the values records nothing points into any more) in one transaction every so often.
// Opening reads the snapshot and replays the log after it.
//
// In memory: every key, in a Map and in sorted order, with its value when that is small
// (`inlineMax`, 1 KB); a larger value (a block) is kept as a reference into its values record
// and read back on demand, the last few values records read or written kept in a cache.
import { BrowserLevel } from 'browser-level'
import { StorageError, type BatchOp, type Bytes, type KVStore, type RangeOptions } from '../src/storage/kv.ts'
import { binaryKey, SortedKeys } from '../src/storage/sorted-keys.ts'
import { createLogger } from '../src/util/logger.ts'
import { errorMessage } from '../src/util/errors.ts'
import { intact, packBatch, packSnapshot, readBatch, readSnapshot, type SnapshotEntry, type ValueRef } from './storage-records.ts'

const log = createLogger('storage')

export interface LogStoreOptions {
  /** Values up to this size are held in memory; larger ones are read from IndexedDB when asked for. */
  inlineMax?: number
  /** Write a snapshot once the log since the last holds this many ops and at least as many as there are keys. */
  snapshotAfterOps?: number
  /** Bytes of values records kept in memory for reading large values. */
  cacheBytes?: number
}

interface Meta { version: 1, gen: number, lastSeq: number, chunks: number }

/** A key's entry: its value, or where the value lies. */
interface Entry { key: Bytes, value?: Bytes, ref?: ValueRef }

interface Queued { ops: BatchOp[], bytes: number, resolve: () => void, reject: (err: unknown) => void }

/** Writes of about this many bytes, queued behind a transaction, go out in one record. */
const GROUP_BYTES = 8 << 20
const CHUNK_BYTES = 2 << 20
/** Records replayed per read on open. */
const REPLAY_READ = 32

/** The IndexedDB database that openIndexedDB(name) keeps its data in. */
export const logDatabaseName = (name: string): string => `weft-log-${name}`
/** The database browser-level kept the same store in, one record per key (the layout before this one). */
export const levelDatabaseName = (name: string): string => `level-js-${name}`

export class LogStore implements KVStore {
  readonly location: string
  private readonly entries_ = new Map<string, Entry>()
  private readonly sorted = new SortedKeys()
  /** Live references into each values record. */
  private readonly refs = new Map<number, number>()
  /** Batch records in the log, and values records, by sequence number. */
  private readonly records = new Set<number>()
  private readonly valueRecords = new Set<number>()
  private nextSeq = 1
  private meta: Meta = { version: 1, gen: 0, lastSeq: 0, chunks: 0 }
  private opsSinceSnapshot = 0
  private queue: Queued[] = []
  private writing?: Promise<void>
  /** Reads that may still fetch a values record: a snapshot then leaves every one in place. */
  private readers = 0
  private readonly cache = new Map<number, Uint8Array>()
  private cachedBytes = 0
  private readonly loading = new Map<number, Promise<Uint8Array>>()
  private closed = false
  readonly inlineMax: number
  private readonly snapshotAfterOps: number
  private readonly cacheBytes: number
  /** What went to IndexedDB (tests and diagnostics): records, write() calls in them, ops, bytes, ms transactions were under way, snapshots. */
  readonly stats = { records: 0, batches: 0, ops: 0, bytes: 0, writeMs: 0, snapshots: 0 }

  constructor (private readonly db: IDBDatabase, private readonly unlock: () => void, name: string, opts: LogStoreOptions) {
    this.location = `indexeddb:${name}`
    this.inlineMax = opts.inlineMax ?? 1024
    this.snapshotAfterOps = opts.snapshotAfterOps ?? 50_000
    this.cacheBytes = opts.cacheBytes ?? 32 << 20
  }

  /** Keys held, bytes of values held in memory, bytes of values records cached; batch and values records on disk. */
  get memory (): { keys: number, valueBytes: number, cacheBytes: number, records: number, valueRecords: number } {
    let valueBytes = 0
    for (const e of this.entries_.values()) valueBytes += e.value?.byteLength ?? 0
    return { keys: this.entries_.size, valueBytes, cacheBytes: this.cachedBytes, records: this.records.size, valueRecords: this.valueRecords.size }
  }

  // ------------------------------------------------------------------ reads

  async get (key: Bytes): Promise<Bytes | undefined> {
    this.checkOpen()
    const e = this.entries_.get(binaryKey(key))
    if (e === undefined) return undefined
    return e.value ?? await this.reading(() => this.fetch(e.ref!))
  }

  async getMany (keys: Bytes[]): Promise<(Bytes | undefined)[]> {
    this.checkOpen()
    const found = keys.map(k => this.entries_.get(binaryKey(k)))
    return await this.values(found)
  }

  async readRanges (ranges: RangeOptions[]): Promise<[Bytes, Bytes][][]> {
    this.checkOpen()
    const found = ranges.map(r => this.rangeEntries({ ...r, reverse: false, limit: undefined }))
    const values = await this.values(found.flat())
    let i = 0
    return found.map(es => es.map(e => [e.key, values[i++]!]))
  }

  async * entries (range: RangeOptions): AsyncIterable<[Bytes, Bytes]> {
    this.checkOpen()
    // The entries as they are now: later writes replace entries, they do not change them.
    const found = this.rangeEntries(range)
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

  private rangeEntries (r: RangeOptions): Entry[] {
    const lo = r.gt ?? r.gte
    const hi = r.lt ?? r.lte
    const limit = r.limit === undefined || r.limit < 0 ? Infinity : r.limit
    const keys = this.sorted.range(lo === undefined ? undefined : binaryKey(lo), r.gt !== undefined, hi === undefined ? undefined : binaryKey(hi), r.lt !== undefined, r.reverse === true, limit)
    return keys.map(k => this.entries_.get(k)!)
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
    const rec = await this.record(ref.seq)
    return rec.slice(ref.off, ref.off + ref.len)
  }

  /** A values record, from the cache or from IndexedDB (reads of one record at once share it). */
  private record (seq: number): Promise<Uint8Array> {
    const cached = this.cache.get(seq)
    if (cached !== undefined) {
      this.cache.delete(seq)
      this.cache.set(seq, cached)
      return Promise.resolve(cached)
    }
    let p = this.loading.get(seq)
    if (p === undefined) {
      p = request<Uint8Array | undefined>(this.db.transaction('values').objectStore('values').get(seq), this.location).then(rec => {
        if (rec === undefined || !intact(rec)) throw this.corrupt(`values record ${seq} is ${rec === undefined ? 'missing' : 'damaged'}`)
        this.remember(seq, rec)
        return rec
      }).finally(() => this.loading.delete(seq))
      this.loading.set(seq, p)
    }
    return p
  }

  private remember (seq: number, rec: Uint8Array): void {
    if (rec.byteLength > this.cacheBytes / 2) return
    this.cache.set(seq, rec)
    this.cachedBytes += rec.byteLength
    for (const [s, r] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes) break
      this.cache.delete(s)
      this.cachedBytes -= r.byteLength
    }
  }

  // ------------------------------------------------------------------ writes

  /** Resolves once the ops are in IndexedDB: writes queued behind a transaction go out together, in one record. */
  async write (ops: BatchOp[]): Promise<void> {
    this.checkOpen()
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
        await this.transact(['log', 'values'], tx => {
          tx.objectStore('log').put(p.rec, seq)
          if (p.values !== undefined) tx.objectStore('values').put(p.values, seq)
        })
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
        this.remember(seq, packed.values)
      }
      this.stats.records++
      this.stats.batches += group.length
      this.stats.bytes += packed.rec.byteLength + (packed.values?.byteLength ?? 0)
      for (const g of group) g.resolve()
      if (this.opsSinceSnapshot >= Math.max(this.snapshotAfterOps, this.entries_.size)) {
        await this.snapshot().catch((err: unknown) => { log.warn(`${this.location}: writing a snapshot failed (the log grows until one succeeds): ${errorMessage(err)}`) })
      }
    }
  }

  /** Applies a batch record (written now, or replayed on open) to the keys in memory. */
  private apply (seq: number, rec: Uint8Array): void {
    let ops = 0
    readBatch(rec, (key, value, off, len) => {
      ops++
      if (value !== undefined) this.set(key, { key: key.slice(), value: value.slice() })
      else if (off !== undefined && len !== undefined) this.set(key, { key: key.slice(), ref: { seq, off, len } })
      else this.set(key, undefined)
    })
    this.opsSinceSnapshot += ops
    this.stats.ops += ops
  }

  private set (key: Bytes, e: Entry | undefined): void {
    const k = binaryKey(key)
    const old = this.entries_.get(k)
    if (old?.ref !== undefined) this.refs.set(old.ref.seq, this.refs.get(old.ref.seq)! - 1)
    if (e?.ref !== undefined) this.refs.set(e.ref.seq, (this.refs.get(e.ref.seq) ?? 0) + 1)
    if (e === undefined) {
      if (old === undefined) return
      this.entries_.delete(k)
      this.sorted.remove(k)
    } else {
      this.entries_.set(k, e)
      if (old === undefined) this.sorted.insert(k)
    }
  }

  /**
   * Writes the whole store as a snapshot as of the last record, and deletes the batch records
   * it replaces and the values records no value lies in any more, all in one transaction.
   */
  private async snapshot (): Promise<void> {
    const meta: Meta = { version: 1, gen: this.meta.gen + 1, lastSeq: this.nextSeq - 1, chunks: 0 }
    const all = this.sorted.range(undefined, false, undefined, false)
    const chunks = packSnapshot((function * (m) { for (const k of all) { const e = m.get(k)!; yield e.ref !== undefined ? { key: e.key, ref: e.ref } : { key: e.key, value: e.value! } } })(this.entries_), CHUNK_BYTES)
    meta.chunks = chunks.length
    // A read under way may still fetch any values record: then they all stay, until the next snapshot.
    const dropValues = this.readers > 0 ? [] : [...this.valueRecords].filter(s => (this.refs.get(s) ?? 0) === 0)
    const old = this.meta
    await this.transact(['log', 'values', 'snapshot'], tx => {
      const snap = tx.objectStore('snapshot')
      chunks.forEach((c, i) => snap.put(c, [meta.gen, i]))
      snap.put(meta, 'meta')
      if (old.chunks > 0) snap.delete(IDBKeyRange.bound([old.gen, 0], [old.gen, Infinity]))
      tx.objectStore('log').delete(IDBKeyRange.upperBound(meta.lastSeq))
      const values = tx.objectStore('values')
      for (const s of dropValues) values.delete(s)
    })
    this.meta = meta
    this.opsSinceSnapshot = 0
    this.stats.snapshots++
    this.records.clear()
    for (const s of dropValues) {
      this.valueRecords.delete(s)
      this.refs.delete(s)
      const c = this.cache.get(s)
      if (c !== undefined) { this.cache.delete(s); this.cachedBytes -= c.byteLength }
    }
  }

  // ------------------------------------------------------------------ open

  /** Reads the snapshot `meta` names and replays the log after it (once, by openIndexedDB). */
  async load (meta: Meta): Promise<void> {
    this.meta = meta
    if (meta.chunks > 0) {
      const chunks = await request<Uint8Array[]>(this.db.transaction('snapshot').objectStore('snapshot').getAll(IDBKeyRange.bound([meta.gen, 0], [meta.gen, Infinity])), this.location)
      if (chunks.length !== meta.chunks) throw this.corrupt(`its snapshot has ${chunks.length} of ${meta.chunks} chunks`)
      for (const [i, c] of chunks.entries()) {
        if (!intact(c)) throw this.corrupt(`snapshot chunk ${i} is damaged`)
        readSnapshot(c, (e: SnapshotEntry) => { this.set(e.key, 'ref' in e ? { key: e.key.slice(), ref: e.ref } : { key: e.key.slice(), value: e.value.slice() }) })
      }
    }
    const seqs = await request<number[]>(this.db.transaction('log').objectStore('log').getAllKeys(), this.location)
    for (const s of seqs) this.records.add(s)
    for (const s of await request<number[]>(this.db.transaction('values').objectStore('values').getAllKeys(), this.location)) this.valueRecords.add(s)
    const replay = seqs.filter(s => s > meta.lastSeq)
    for (let i = 0; i < replay.length; i += REPLAY_READ) {
      const part = replay.slice(i, i + REPLAY_READ)
      const recs = await request<Uint8Array[]>(this.db.transaction('log').objectStore('log').getAll(IDBKeyRange.bound(part[0], part[part.length - 1])), this.location)
      for (const [j, rec] of recs.entries()) {
        const seq = part[j]
        if (intact(rec)) { this.apply(seq, rec); continue }
        if (seq !== replay[replay.length - 1]) throw this.corrupt(`log record ${seq} is damaged, and later ones follow it`)
        // The last record only: the write that was under way when the tab or browser died.
        log.warn(`${this.location}: the last log record (${seq}) is damaged; dropping it, the store is as it was before that write`)
        this.records.delete(seq)
        this.valueRecords.delete(seq)
        await this.transact(['log', 'values'], tx => { tx.objectStore('log').delete(seq); tx.objectStore('values').delete(seq) })
      }
    }
    let last = meta.lastSeq
    for (const s of [...this.records, ...this.valueRecords]) last = Math.max(last, s)
    this.nextSeq = last + 1
    this.stats.ops = 0
  }

  // ------------------------------------------------------------------ plumbing

  private transact (stores: string[], fill: (tx: IDBTransaction) => void): Promise<void> {
    // 'relaxed': atomic all the same; only the flush to disk before oncomplete is skipped (a tab crash loses nothing, a power cut may lose the last writes).
    const tx = this.db.transaction(stores, 'readwrite', { durability: 'relaxed' })
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'))
      tx.onerror = ev => ev.preventDefault()
    })
    try {
      fill(tx)
      tx.commit()
    } catch (err) {
      try { tx.abort() } catch { /* already over */ }
      void done.catch(() => {})
      return Promise.reject(err)
    }
    return done
  }

  private corrupt (what: string): StorageError {
    return new StorageError('CORRUPT', `database ${this.location} is damaged: ${what}. Delete the site's data for this page (the chain syncs again from the network)`)
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

/** Opens (creating, or converting from the one-record-per-key layout) the store `name`. */
export async function openIndexedDB (name: string, opts: LogStoreOptions = {}): Promise<LogStore> {
  const location = `indexeddb:${name}`
  const unlock = await lockDatabase(name, location)
  let db: IDBDatabase | undefined
  try {
    db = await openDatabase(logDatabaseName(name), location)
    const store = new LogStore(db, unlock, name, opts)
    let meta = await request<Meta | undefined>(db.transaction('snapshot').objectStore('snapshot').get('meta'), location)
    // No meta: a new database, or one whose conversion was cut short; either way it starts over.
    if (meta === undefined) meta = await initialize(db, name, location, store.inlineMax)
    else void dropLevelDatabase(name)
    await store.load(meta)
    return store
  } catch (err) {
    db?.close()
    unlock()
    throw err instanceof StorageError ? err : new StorageError('IO', `cannot open database ${location}: ${errorMessage(err)}`, { cause: err })
  }
}

/** Deletes store `name` (it must be closed): its database, and one left in the one-record-per-key layout. */
export async function destroyIndexedDB (name: string): Promise<void> {
  await deleteDatabase(logDatabaseName(name))
  await deleteDatabase(levelDatabaseName(name))
}

/** Holds a Web Lock on the store while it is open: two tabs writing one log would each miss the other's writes. */
async function lockDatabase (name: string, location: string): Promise<() => void> {
  const release = await new Promise<(() => void) | undefined>((resolve, reject) => {
    navigator.locks.request(`weft-idb:${name}`, { ifAvailable: true }, lock => {
      if (lock === null) { resolve(undefined); return }
      return new Promise<void>(done => { resolve(done) })
    }).catch(reject)
  })
  if (release === undefined) throw new StorageError('LOCKED', `database ${location} is open in another tab of this site: close it there first`)
  return release
}

function openDatabase (dbName: string, location: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(dbName, 1)
    req.onupgradeneeded = () => {
      req.result.createObjectStore('log')
      req.result.createObjectStore('values')
      req.result.createObjectStore('snapshot')
    }
    req.onsuccess = () => {
      // Someone deletes the database (destroyIndexedDB in another tab): let them.
      req.result.onversionchange = () => { req.result.close() }
      resolve(req.result)
    }
    req.onerror = () => reject(new StorageError('IO', `cannot open database ${location}: ${errorMessage(req.error)}`, { cause: req.error }))
    req.onblocked = () => { log.warn(`${location}: waiting for another tab to close an older version of the database`) }
  })
}

/**
 * A first open: empties the database (a conversion cut short leaves records behind) and, if
 * browser-level holds this store in the one-record-per-key layout, copies it into the log,
 * then deletes the old database. The meta record, written last, says the copy is whole.
 */
async function initialize (db: IDBDatabase, name: string, location: string, inlineMax: number): Promise<Meta> {
  const meta: Meta = { version: 1, gen: 0, lastSeq: 0, chunks: 0 }
  const fill = (stores: string[], f: (tx: IDBTransaction) => void): Promise<void> => new Promise((resolve, reject) => {
    const tx = db.transaction(stores, 'readwrite')
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(writeError(tx.error, location))
    f(tx)
  })
  await fill(['log', 'values', 'snapshot'], tx => { for (const os of ['log', 'values', 'snapshot']) tx.objectStore(os).clear() })
  const old = (await indexedDB.databases()).some(d => d.name === levelDatabaseName(name))
  if (old) {
    const level = new BrowserLevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' })
    await level.open()
    let seq = 0
    let keys = 0
    try {
      const it = level.iterator()
      try {
        while (true) {
          let part: BatchOp[] = []
          let bytes = 0
          while (bytes < CHUNK_BYTES) {
            const got = await it.nextv(1000)
            if (got.length === 0) break
            for (const [key, value] of got) { part.push({ type: 'put', key, value }); bytes += key.byteLength + value.byteLength }
          }
          if (part.length === 0) break
          const { rec, values } = packBatch([part], inlineMax)
          keys += part.length
          part = []
          const s = ++seq
          await fill(['log', 'values'], tx => {
            tx.objectStore('log').put(rec, s)
            if (values !== undefined) tx.objectStore('values').put(values, s)
          })
        }
      } finally {
        await it.close()
      }
    } finally {
      await level.close()
    }
    log.info(`${location}: converted ${keys} keys from the one-record-per-key layout into ${seq} log records`)
  }
  await fill(['snapshot'], tx => { tx.objectStore('snapshot').put(meta, 'meta') })
  if (old) void dropLevelDatabase(name)
  return meta
}

/** Deletes the old layout's database once the log holds its data (if it is still there). */
async function dropLevelDatabase (name: string): Promise<void> {
  try {
    if ((await indexedDB.databases()).some(d => d.name === levelDatabaseName(name))) await deleteDatabase(levelDatabaseName(name))
  } catch (err) {
    log.warn(`cannot delete the old database ${levelDatabaseName(name)}: ${errorMessage(err)}`)
  }
}

function deleteDatabase (dbName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(dbName)
    req.onsuccess = () => resolve()
    req.onerror = () => reject(req.error)
  })
}

function request<T> (req: IDBRequest, location: string): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result as T)
    req.onerror = () => reject(new StorageError('IO', `read from database ${location} failed: ${errorMessage(req.error)}`, { cause: req.error }))
  })
}

function writeError (err: unknown, location: string): StorageError {
  const e = err as { name?: string, message?: string }
  if (e?.name === 'QuotaExceededError' || /quota/i.test(e?.message ?? '')) return new StorageError('QUOTA', `storage quota exceeded writing ${location}`, { cause: err })
  return new StorageError('IO', `write to database ${location} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, { cause: err })
}
