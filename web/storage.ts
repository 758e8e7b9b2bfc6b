// The tab's KVStore: IndexedDB as a log of few, large records (storage/log-store.ts).
import { StorageError } from '../src/storage/kv.ts'
import { errorMessage } from '../src/util/errors.ts'
import { deleteDatabase, openDatabase } from './storage/idb.ts'
import { lockDatabase } from './storage/lock.ts'
import { LogStore, type LogStoreOptions } from './storage/log-store.ts'
import { dropLevelDatabase, initialize, levelDatabaseName } from './storage/migration.ts'
import { readMeta } from './storage/snapshot.ts'

export type { LogStoreOptions }

/** The IndexedDB database that openIndexedDB(name) keeps its data in. */
export const logDatabaseName = (name: string): string => `weft-log-${name}`

/** Opens (creating, or converting from the one-record-per-key layout) the store `name`. */
export async function openIndexedDB (name: string, opts: LogStoreOptions = {}): Promise<LogStore> {
  const location = `indexeddb:${name}`
  const unlock = await lockDatabase(name, location)
  let db: IDBDatabase | undefined
  try {
    db = await openDatabase(logDatabaseName(name), location)
    const store = new LogStore(db, unlock, name, opts)
    let meta = await readMeta(db, location)
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
