import { BrowserLevel } from 'browser-level'
import { levelStore } from '../src/storage/level.ts'
import { StorageError, type BatchOp, type Bytes, type KVStore, type RangeOptions } from '../src/storage/kv.ts'
import { closeInWorker, writeInWorker } from './idb-writes.ts'

/**
 * The browser peer's IndexedDB database (browser-level: one object store, binary keys). Range
 * scans go through browser-level; batches are written here, every request of the batch issued
 * at once in one readwrite transaction (browser-level waits for each request before the next,
 * which makes a batch of thousands take seconds). Many reads at once likewise: all requests in
 * one readonly transaction, and single gets issued in the same tick join one (a block's
 * look-up of its 500 txids would otherwise open 500 transactions). With `writeInWorker`,
 * batches are written by a Web Worker (idb-writes.ts), off the page's thread.
 */
export async function openIndexedDB (name: string, opts: { writeInWorker?: boolean } = {}): Promise<KVStore> {
  const level = new BrowserLevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' })
  const store = await levelStore(level, `indexeddb:${name}`)
  const location = store.location
  const getMany = (keys: Bytes[]): Promise<(Bytes | undefined)[]> => idbRead(level, location, keys, (os, key) => os.get(key as unknown as IDBValidKey), value => value === undefined ? undefined : bytes(value))
  const out: KVStore = {
    ...store,
    write: ops => idbBatch(level, ops, location),
    get: coalesced(getMany),
    getMany,
    readRanges: ranges => idbRead(level, location, ranges, readRange, ([keys, values]) => keys.map((k, i) => [bytes(k), bytes(values[i])] as [Bytes, Bytes]))
  }
  if (opts.writeInWorker !== true) return out
  const db = idbDatabase(level, location).name
  return {
    ...out,
    async write (ops) {
      if (ops.length === 0) return
      await writeInWorker(db, level.location, ops).catch((err: unknown) => { throw writeError(err, location) })
    },
    async close () {
      await closeInWorker(db)
      await store.close()
    }
  }
}

/** Deletes the IndexedDB database openIndexedDB(name) opens (it must be closed). */
export async function destroyIndexedDB (name: string): Promise<void> {
  await BrowserLevel.destroy(name)
}

/** get() on top of getMany(): the gets of one tick are read together. */
function coalesced (getMany: (keys: Bytes[]) => Promise<(Bytes | undefined)[]>): (key: Bytes) => Promise<Bytes | undefined> {
  let waiting: Array<{ key: Bytes, resolve: (v: Bytes | undefined) => void, reject: (err: unknown) => void }> = []
  const run = (): void => {
    const batch = waiting
    waiting = []
    getMany(batch.map(w => w.key)).then(
      values => { batch.forEach((w, i) => w.resolve(values[i])) },
      err => { for (const w of batch) w.reject(err) })
  }
  return key => new Promise((resolve, reject) => {
    if (waiting.length === 0) queueMicrotask(run)
    waiting.push({ key, resolve, reject })
  })
}

type ObjectStore = IDBObjectStore
type Level = BrowserLevel<Uint8Array, Uint8Array>

function idbDatabase (level: Level, location: string): IDBDatabase {
  const db = (level as unknown as { db: IDBDatabase | null }).db
  if (level.status !== 'open' || db === null) throw new StorageError('NOT_OPEN', `database ${location} is closed`)
  return db
}

/** Stored values come back as Uint8Array, keys as ArrayBuffer. */
function bytes (v: unknown): Bytes {
  return v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer)
}

/** A range's keys and values: two requests over the same key range, in the same transaction. */
function readRange (os: ObjectStore, r: RangeOptions): Promise<[unknown[], unknown[]]> {
  const lower = r.gt ?? r.gte
  const upper = r.lt ?? r.lte
  let range: IDBKeyRange | undefined
  try {
    range = lower !== undefined && upper !== undefined
      ? IDBKeyRange.bound(lower, upper, r.gt !== undefined, r.lt !== undefined)
      : lower !== undefined ? IDBKeyRange.lowerBound(lower, r.gt !== undefined) : upper !== undefined ? IDBKeyRange.upperBound(upper, r.lt !== undefined) : undefined
  } catch {
    return Promise.resolve([[], []]) // lower bound above the upper: nothing in it
  }
  return Promise.all([requested(os.getAllKeys(range)), requested(os.getAll(range))])
}

function requested<T> (req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

/** Issues one request per item in a single readonly transaction, all at once, and waits for all. */
async function idbRead<I, R, O> (level: Level, location: string, items: I[], request: (os: ObjectStore, item: I) => IDBRequest<R> | Promise<R>, convert: (result: R) => O): Promise<O[]> {
  if (items.length === 0) return []
  const tx = idbDatabase(level, location).transaction([level.location], 'readonly')
  const os = tx.objectStore(level.location)
  try {
    const results = await Promise.all(items.map(item => {
      const r = request(os, item)
      return r instanceof Promise ? r : requested(r)
    }))
    return results.map(convert)
  } catch (err) {
    const e = err as { name?: string, message?: string }
    throw new StorageError('IO', `read from database ${location} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, { cause: err })
  }
}

async function idbBatch (level: Level, ops: BatchOp[], location: string): Promise<void> {
  if (ops.length === 0) return
  const db = idbDatabase(level, location)
  let tx: IDBTransaction
  try {
    // Atomic either way; 'relaxed' only skips the flush to disk before oncomplete (a tab crash loses nothing, a power cut may lose the last writes).
    tx = db.transaction([level.location], 'readwrite', { durability: 'relaxed' })
  } catch (err) {
    throw new StorageError('NOT_OPEN', `database ${location} cannot be written: ${(err as Error).message}`, { cause: err })
  }
  const done = new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'))
    tx.onerror = ev => ev.preventDefault()
  })
  try {
    const os = tx.objectStore(level.location)
    for (const op of ops) {
      if (op.type === 'del') os.delete(op.key as unknown as IDBValidKey)
      // A view into a bigger buffer would be stored with all of it: store its own copy.
      else os.put(op.value.byteLength === op.value.buffer.byteLength ? op.value : op.value.slice(), op.key as unknown as IDBValidKey)
    }
    tx.commit()
  } catch (err) {
    try { tx.abort() } catch { /* already done */ }
    void done.catch(() => {})
    throw writeError(err, location)
  }
  try {
    await done
  } catch (err) {
    throw writeError(err, location)
  }
}

function writeError (err: unknown, location: string): StorageError {
  const e = err as { name?: string, message?: string }
  if (e?.name === 'QuotaExceededError' || /quota/i.test(e?.message ?? '')) return new StorageError('QUOTA', `storage quota exceeded writing ${location}`, { cause: err })
  return new StorageError('IO', `write to database ${location} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, { cause: err })
}
