import type { AbstractLevel } from 'abstract-level'
import { StorageError, type BatchOp, type Bytes, type KVStore, type RangeOptions } from './kv.ts'

type ByteLevel = AbstractLevel<any, Uint8Array, Uint8Array>

/** Puts any abstract-level database (classic-level, browser-level, memory-level) behind KVStore. */
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
    async write (ops: BatchOp[]) {
      if (ops.length === 0) return
      try {
        await db.batch(ops.map(op => op.type === 'put'
          ? { type: 'put' as const, key: op.key, value: op.value }
          : { type: 'del' as const, key: op.key }), opts)
      } catch (err) {
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
