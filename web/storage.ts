import { BrowserLevel } from 'browser-level'
import { levelStore } from '../src/storage/level.ts'
import type { KVStore } from '../src/storage/kv.ts'

/** The browser peer's IndexedDB database. */
export async function openIndexedDB (name: string): Promise<KVStore> {
  return levelStore(new BrowserLevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' }), `indexeddb:${name}`)
}
