import { BrowserLevel } from 'browser-level'
import { levelStore } from '../src/storage/level.ts'
import { StorageError, type BatchOp, type KVStore } from '../src/storage/kv.ts'

/**
 * The browser peer's IndexedDB database (browser-level: one object store, binary keys). Reads
 * go through browser-level; batches are written here, every request of the batch issued at
 * once in one readwrite transaction (browser-level waits for each request before the next,
 * which makes a batch of thousands take seconds).
 */
export async function openIndexedDB (name: string): Promise<KVStore> {
  const level = new BrowserLevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' })
  const store = await levelStore(level, `indexeddb:${name}`)
  return { ...store, write: ops => idbBatch(level, ops, store.location) }
}

/** Deletes the IndexedDB database openIndexedDB(name) opens (it must be closed). */
export async function destroyIndexedDB (name: string): Promise<void> {
  await BrowserLevel.destroy(name)
}

async function idbBatch (level: BrowserLevel<Uint8Array, Uint8Array>, ops: BatchOp[], location: string): Promise<void> {
  if (ops.length === 0) return
  const db = (level as unknown as { db: IDBDatabase | null }).db
  if (level.status !== 'open' || db === null) throw new StorageError('NOT_OPEN', `database ${location} is closed`)
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
