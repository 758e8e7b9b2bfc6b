// The whole store as of a log position, in object store `snapshot`: chunks under [gen, i], and
// `meta`, which names the generation, how many chunks it has and the position. Written in one
// transaction with the deletion of the log records it replaces, so opening reads it and
// replays only the log after it.
import { corruptError, request, transact } from './idb.ts'
import type { Entry } from './key-index.ts'
import { intact, packSnapshot, readSnapshot, type SnapshotEntry } from './records.ts'

export interface Meta { version: 1, gen: number, lastSeq: number, chunks: number }

export const emptyMeta = (): Meta => ({ version: 1, gen: 0, lastSeq: 0, chunks: 0 })

/** Bytes of a snapshot chunk (and of a batch record the level-js conversion writes). */
export const CHUNK_BYTES = 2 << 20

/**
 * Writes `entries` as the snapshot after `old`, as of log record `lastSeq`, and deletes the
 * older snapshot, the batch records up to `lastSeq` and the values records `dropValues`, all in
 * one transaction.
 */
export async function saveSnapshot (db: IDBDatabase, old: Meta, lastSeq: number, entries: Iterable<Entry>, dropValues: readonly number[]): Promise<Meta> {
  const chunks = packSnapshot((function * () { for (const e of entries) yield e.ref !== undefined ? { key: e.key, ref: e.ref } : { key: e.key, value: e.value! } })(), CHUNK_BYTES)
  const meta: Meta = { version: 1, gen: old.gen + 1, lastSeq, chunks: chunks.length }
  await transact(db, ['log', 'values', 'snapshot'], tx => {
    const snap = tx.objectStore('snapshot')
    chunks.forEach((c, i) => snap.put(c, [meta.gen, i]))
    snap.put(meta, 'meta')
    if (old.chunks > 0) snap.delete(IDBKeyRange.bound([old.gen, 0], [old.gen, Infinity]))
    tx.objectStore('log').delete(IDBKeyRange.upperBound(meta.lastSeq))
    const values = tx.objectStore('values')
    for (const s of dropValues) values.delete(s)
  }, 'relaxed')
  return meta
}

/** The `meta` record, or undefined in a database whose first open has not finished. */
export async function readMeta (db: IDBDatabase, location: string): Promise<Meta | undefined> {
  return await request<Meta | undefined>(db.transaction('snapshot').objectStore('snapshot').get('meta'), location)
}

/** Passes each entry of the snapshot `meta` names to `each`. */
export async function loadSnapshot (db: IDBDatabase, location: string, meta: Meta, each: (e: SnapshotEntry) => void): Promise<void> {
  if (meta.chunks === 0) return
  const chunks = await request<Uint8Array[]>(db.transaction('snapshot').objectStore('snapshot').getAll(IDBKeyRange.bound([meta.gen, 0], [meta.gen, Infinity])), location)
  if (chunks.length !== meta.chunks) throw corruptError(location, `its snapshot has ${chunks.length} of ${meta.chunks} chunks`)
  for (const [i, c] of chunks.entries()) {
    if (!intact(c)) throw corruptError(location, `snapshot chunk ${i} is damaged`)
    readSnapshot(c, each)
  }
}
