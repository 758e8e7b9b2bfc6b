// IndexedDB's callbacks as promises, and its failures as the StorageErrors every KVStore throws.
import { StorageError } from '../../src/storage/kv.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { createLogger } from '../../src/util/logger.ts'

const log = createLogger('storage')

/** Opens (creating its object stores) the database `dbName`. */
export function openDatabase (dbName: string, location: string): Promise<IDBDatabase> {
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

export function deleteDatabase (dbName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(dbName)
    req.onsuccess = () => resolve()
    req.onerror = () => reject(req.error)
  })
}

export function request<T> (req: IDBRequest, location: string): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result as T)
    req.onerror = () => reject(new StorageError('IO', `read from database ${location} failed: ${errorMessage(req.error)}`, { cause: req.error }))
  })
}

/** Resolves once the readwrite transaction `fill` made is committed; rejects with why it was not. */
export function transact (db: IDBDatabase, stores: string[], fill: (tx: IDBTransaction) => void, durability: IDBTransactionDurability): Promise<void> {
  const tx = db.transaction(stores, 'readwrite', { durability })
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

export function writeError (err: unknown, location: string): StorageError {
  const e = err as { name?: string, message?: string }
  if (e?.name === 'QuotaExceededError' || /quota/i.test(e?.message ?? '')) return new StorageError('QUOTA', `storage quota exceeded writing ${location}`, { cause: err })
  return new StorageError('IO', `write to database ${location} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, { cause: err })
}

export function corruptError (location: string, what: string): StorageError {
  return new StorageError('CORRUPT', `database ${location} is damaged: ${what}. Delete the site's data for this page (the chain syncs again from the network)`)
}
