import type { AbstractChainedBatch, AbstractLevel } from 'abstract-level'
import { batchOps, StorageError, type BatchOp, type Bytes, type KVStore, type RangeOptions, type StoreBatch } from './kv.ts'
import { beforeStart, pastEnd } from './ranges.ts'

type ByteLevel = AbstractLevel<any, Uint8Array, Uint8Array>

/**
 * The database's own chained batch, with its own (view) encodings: an array batch has
 * abstract-level copy every op with the options merged in, and classic-level read each op's
 * properties back natively. classic-level copies each op into its native batch at once.
 */
class LevelBatch implements StoreBatch {
  constructor (readonly db: ByteLevel, readonly chained: AbstractChainedBatch<any, Uint8Array, Uint8Array>) {}

  put (key: Bytes, value: Bytes): void { this.chained.put(key, value) }
  del (key: Bytes): void { this.chained.del(key) }
  get length (): number { return this.chained.length }
  discard (): void { this.chained.close().catch(() => {}) }
}

/** Puts any abstract-level database (classic-level, browser-level, memory-level) opened with view key and value encodings behind KVStore. */
export async function levelStore (db: ByteLevel, location: string): Promise<KVStore> {
  try {
    await db.open()
  } catch (err) {
    throw openError(err, location)
  }
  const opts = { keyEncoding: 'view', valueEncoding: 'view' } as const
  return {
    location,
    async get (key) {
      return (await db.get(key, opts)) ?? undefined
    },
    async getMany (keys) {
      if (keys.length === 0) return []
      return (await db.getMany(keys, opts)).map(v => v ?? undefined)
    },
    readRanges: ranges => readRanges(db, ranges),
    batch: () => new LevelBatch(db, db.batch()),
    async write (ops: BatchOp[] | StoreBatch) {
      let batch = ops instanceof LevelBatch && ops.db === db ? ops : undefined
      const list = batch === undefined ? batchOps(ops) : []
      try {
        batch ??= filled(db, list)
        if (batch.length === 0) batch.discard()
        else await batch.chained.write()
      } catch (err) {
        batch?.discard()
        throw writeError(err, location)
      }
    },
    async * entries (range: RangeOptions): AsyncIterable<[Bytes, Bytes]> {
      const it = db.iterator({ ...range, limit: range.limit ?? -1, ...opts })
      try {
        while (true) {
          const chunk = await it.nextv(256)
          if (chunk.length === 0) break
          for (const entry of chunk) yield entry as [Bytes, Bytes]
        }
      } finally {
        await it.close()
      }
    },
    async close () {
      await db.close()
    }
  }
}

function filled (db: ByteLevel, ops: BatchOp[]): LevelBatch {
  const batch = new LevelBatch(db, db.batch())
  for (const op of ops) {
    if (op.type === 'put') batch.put(op.key, op.value)
    else batch.del(op.key)
  }
  return batch
}

/**
 * Reads in flight at once. An iterator per range costs an open and a close on top of the read;
 * a few iterators that seek from range to range cost one read per range, and several of them
 * keep LevelDB's worker threads busy while the main thread takes the results.
 */
const readLanes = 8

async function readRanges (db: ByteLevel, ranges: RangeOptions[]): Promise<[Bytes, Bytes][][]> {
  const out: [Bytes, Bytes][][] = ranges.map(() => [])
  let next = 0
  const lane = async (): Promise<void> => {
    const it = db.iterator({ keyEncoding: 'view', valueEncoding: 'view' })
    try {
      for (let i = next++; i < ranges.length; i = next++) {
        const r = ranges[i]
        it.seek(r.gt ?? r.gte ?? new Uint8Array(0))
        // Most ranges here hold an entry or two: read a few, then more while the range goes on.
        for (let size = 4; ; size *= 4) {
          const chunk = await it.nextv(size) as [Bytes, Bytes][]
          let ended = chunk.length < size
          for (const entry of chunk) {
            if (pastEnd(entry[0], r)) { ended = true; break }
            if (!beforeStart(entry[0], r)) out[i].push(entry)
          }
          if (ended) break
        }
      }
    } finally {
      await it.close()
    }
  }
  await Promise.all(Array.from({ length: Math.min(readLanes, ranges.length) }, lane))
  return out
}

function describe (err: unknown): string {
  const e = err as { message?: string, cause?: { message?: string } }
  return [e?.message, e?.cause?.message].filter(Boolean).join(': ')
}

function openError (err: unknown, location: string): StorageError {
  const text = describe(err)
  if (/lock/i.test(text)) {
    return new StorageError('LOCKED', `database ${location} is locked: another process (a running weft peer?) has it open`, { cause: err })
  }
  if (/corrupt|invalid|bad magic|checksum/i.test(text)) {
    return new StorageError('CORRUPT', `database ${location} is corrupt and cannot be opened (${text})`, { cause: err })
  }
  return new StorageError('IO', `cannot open database ${location}: ${text}`, { cause: err })
}

function writeError (err: unknown, location: string): StorageError {
  const text = describe(err)
  if (/quota/i.test(text)) return new StorageError('QUOTA', `storage quota exceeded writing ${location}`, { cause: err })
  if (/not open/i.test(text)) return new StorageError('NOT_OPEN', `database ${location} is closed`, { cause: err })
  return new StorageError('IO', `write to database ${location} failed: ${text}`, { cause: err })
}
