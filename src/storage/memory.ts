import { MemoryLevel } from 'memory-level'
import { levelStore } from './level.ts'
import type { KVStore } from './kv.ts'

/** An in-memory store: tests, and the in-page demo network. */
export async function memoryStore (name = 'memory'): Promise<KVStore> {
  return levelStore(new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }), name)
}
