// Runs in the tab: writes and reads a browser-level (IndexedDB) database, so
// test/browser/storage-persist.test.ts can check that data survives a reload.
import { BrowserLevel } from 'browser-level'
import { computeCryptoHash } from '../../../src/crypto/hash.ts'
import { levelStore } from '../../../src/storage/level.ts'
import { exposeTestApi } from '../page-api.ts'

async function withDb<T> (name: string, fn: (db: BrowserLevel<string, Uint8Array>) => Promise<T>): Promise<T> {
  const db = new BrowserLevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  try { return await fn(db) } finally { await db.close() }
}

exposeTestApi('storage-persist', {
  async write (name: string, entries: Array<[string, Uint8Array]>) {
    await withDb(name, db => db.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value }))))
    return entries.length
  },
  async readAll (name: string) {
    return await withDb(name, async db => {
      const out: Array<[string, Uint8Array]> = []
      for await (const [k, v] of db.iterator()) out.push([k, v])
      return out
    })
  },
  async get (name: string, key: string) {
    return await withDb(name, db => db.get(key))
  },
  /** A value kept only in page memory: it must be gone after a reload. */
  setVolatile (v: string) { (globalThis as any).__volatile = v },
  getVolatile () { return (globalThis as any).__volatile as string | undefined },
  /** Through Weft's own KVStore (src/storage) over IndexedDB: key -> SHAKE256(key). */
  async storeWriteHashes (name: string, keys: Uint8Array[]) {
    const store = await levelStore(new BrowserLevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' }), name)
    try { await store.write(keys.map(key => ({ type: 'put' as const, key, value: computeCryptoHash(key) }))) } finally { await store.close() }
  },
  async storeEntries (name: string) {
    const store = await levelStore(new BrowserLevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' }), name)
    const out: Array<[Uint8Array, Uint8Array]> = []
    try { for await (const e of store.entries({})) out.push(e) } finally { await store.close() }
    return out
  },
  async databases () {
    return (await indexedDB.databases()).map(d => d.name)
  }
})
