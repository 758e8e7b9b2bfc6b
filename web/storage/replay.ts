import { createLogger } from '../../src/util/logger.ts'
import { corruptError, request, transact } from './idb.ts'
import { intact } from './records.ts'

const log = createLogger('storage')

/** Records replayed per read. */
const REPLAY_READ = 32

/**
 * Passes each batch record after `after` to `apply`, in order, and answers which batch and
 * values records are on disk. Only the last record may be damaged, by the write under way when
 * the tab or browser died: it is deleted, and the store is as it was before that write.
 */
export async function replayLog (db: IDBDatabase, location: string, after: number, apply: (seq: number, rec: Uint8Array) => void): Promise<{ records: Set<number>, valueRecords: Set<number> }> {
  const seqs = await request<number[]>(db.transaction('log').objectStore('log').getAllKeys(), location)
  const records = new Set(seqs)
  const valueRecords = new Set(await request<number[]>(db.transaction('values').objectStore('values').getAllKeys(), location))
  const replay = seqs.filter(s => s > after)
  for (let i = 0; i < replay.length; i += REPLAY_READ) {
    const part = replay.slice(i, i + REPLAY_READ)
    const recs = await request<Uint8Array[]>(db.transaction('log').objectStore('log').getAll(IDBKeyRange.bound(part[0], part[part.length - 1])), location)
    for (const [j, rec] of recs.entries()) {
      const seq = part[j]
      if (intact(rec)) { apply(seq, rec); continue }
      if (seq !== replay[replay.length - 1]) throw corruptError(location, `log record ${seq} is damaged, and later ones follow it`)
      log.warn(`${location}: the last log record (${seq}) is damaged; dropping it, the store is as it was before that write`)
      records.delete(seq)
      valueRecords.delete(seq)
      await transact(db, ['log', 'values'], tx => { tx.objectStore('log').delete(seq); tx.objectStore('values').delete(seq) }, 'relaxed')
    }
  }
  return { records, valueRecords }
}
