// The layout before the log: browser-level (level-js) kept a store one record per key, in
// database `level-js-NAME`. A first open copies such a store into the log, then deletes it.
import { BrowserLevel } from 'browser-level'
import type { BatchOp } from '../../src/storage/kv.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { createLogger } from '../../src/util/logger.ts'
import { deleteDatabase, transact, writeError } from './idb.ts'
import { packBatch } from './records.ts'
import { CHUNK_BYTES, emptyMeta, type Meta } from './snapshot.ts'

const log = createLogger('storage')

/** The database browser-level kept store `name` in. */
export const levelDatabaseName = (name: string): string => `level-js-${name}`

/**
 * A first open: empties the database (a conversion cut short leaves records behind) and, if
 * browser-level holds this store in the one-record-per-key layout, copies it into the log,
 * then deletes the old database. The meta record, written last, says the copy is whole.
 */
export async function initialize (db: IDBDatabase, name: string, location: string, inlineMax: number): Promise<Meta> {
  const meta = emptyMeta()
  const fill = async (stores: string[], f: (tx: IDBTransaction) => void): Promise<void> => {
    await transact(db, stores, f, 'default').catch((err: unknown) => { throw writeError(err, location) })
  }
  await fill(['log', 'values', 'snapshot'], tx => { for (const os of ['log', 'values', 'snapshot']) tx.objectStore(os).clear() })
  const old = (await indexedDB.databases()).some(d => d.name === levelDatabaseName(name))
  if (old) {
    const level = new BrowserLevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' })
    await level.open()
    let seq = 0
    let keys = 0
    try {
      const it = level.iterator()
      try {
        while (true) {
          let part: BatchOp[] = []
          let bytes = 0
          while (bytes < CHUNK_BYTES) {
            const got = await it.nextv(1000)
            if (got.length === 0) break
            for (const [key, value] of got) { part.push({ type: 'put', key, value }); bytes += key.byteLength + value.byteLength }
          }
          if (part.length === 0) break
          const { rec, values } = packBatch([part], inlineMax)
          keys += part.length
          part = []
          const s = ++seq
          await fill(['log', 'values'], tx => {
            tx.objectStore('log').put(rec, s)
            if (values !== undefined) tx.objectStore('values').put(values, s)
          })
        }
      } finally {
        await it.close()
      }
    } finally {
      await level.close()
    }
    log.info(`${location}: converted ${keys} keys from the one-record-per-key layout into ${seq} log records`)
  }
  await fill(['snapshot'], tx => { tx.objectStore('snapshot').put(meta, 'meta') })
  if (old) void dropLevelDatabase(name)
  return meta
}

/** Deletes the old layout's database once the log holds its data (if it is still there). */
export async function dropLevelDatabase (name: string): Promise<void> {
  try {
    if ((await indexedDB.databases()).some(d => d.name === levelDatabaseName(name))) await deleteDatabase(levelDatabaseName(name))
  } catch (err) {
    log.warn(`cannot delete the old database ${levelDatabaseName(name)}: ${errorMessage(err)}`)
  }
}
