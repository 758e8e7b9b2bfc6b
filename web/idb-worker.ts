// The IndexedDB writer's worker (see idb-writes.ts): applies packed batches to the databases it
// is told about, one readwrite transaction per batch, in the order they arrive. Issuing the
// puts costs the thread that issues them about as much as everything else a block costs; here
// it is not the page's thread.
import { unpackOps, type WriterReply, type WriterRequest } from './idb-writes.ts'

interface WorkerScope {
  onmessage: ((e: { data: WriterRequest }) => void) | null
  postMessage (data: WriterReply): void
}
const scope = globalThis as unknown as WorkerScope
const open = new Map<string, Promise<IDBDatabase>>()

function database (name: string): Promise<IDBDatabase> {
  let db = open.get(name)
  if (db === undefined) {
    db = new Promise((resolve, reject) => {
      const req = indexedDB.open(name)
      req.onsuccess = () => {
        // Someone deletes or upgrades the database: let them.
        req.result.onversionchange = () => { req.result.close(); open.delete(name) }
        resolve(req.result)
      }
      req.onerror = () => reject(req.error)
    })
    open.set(name, db)
  }
  return db
}

async function write (db: string, store: string, packed: ArrayBuffer): Promise<void> {
  const tx = (await database(db)).transaction([store], 'readwrite', { durability: 'relaxed' })
  const done = new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'))
    tx.onerror = ev => ev.preventDefault()
  })
  try {
    const os = tx.objectStore(store)
    unpackOps(packed, (key, value) => {
      if (value === undefined) os.delete(key as unknown as IDBValidKey)
      // A view would be stored with its whole buffer: each value gets its own.
      else os.put(value.slice(), key as unknown as IDBValidKey)
    })
    tx.commit()
  } catch (err) {
    try { tx.abort() } catch { /* already done */ }
    void done.catch(() => {})
    throw err
  }
  await done
}

async function close (db: string): Promise<void> {
  const d = open.get(db)
  open.delete(db)
  ;(await d?.catch(() => undefined))?.close()
}

scope.onmessage = ({ data }) => {
  const run = data.type === 'write' ? write(data.db, data.store, data.ops) : close(data.db)
  run.then(() => { scope.postMessage({ id: data.id }) }, (err: unknown) => {
    const e = err as { name?: string, message?: string }
    scope.postMessage({ id: data.id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err) } })
  })
}
