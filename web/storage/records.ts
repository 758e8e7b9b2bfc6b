// The records of the IndexedDB log store (log-store.ts), each one IndexedDB value: a batch record
// holds the ops of one or more write() calls, its large values in a values record beside it; a
// snapshot chunk holds entries of the whole store as of a log position, a value either inline
// or as a reference into the values record that holds it. Both end in a CRC-32 of what precedes
// it, so a damaged record is told from a whole one.
import type { BatchOp, Bytes } from '../../src/storage/kv.ts'

const PUT = 1
const DEL = 2
const PUT_REF = 3
const INLINE = 1
const REF = 2

/** Where a value lies: at `off`, `len` bytes long, in the values record of batch `seq`. */
export interface ValueRef { seq: number, off: number, len: number }

/**
 * One batch record with the ops of every batch in `batches`, in order; values longer than
 * `inlineMax` go to a values record beside it (a batch record is dropped once a snapshot covers
 * it, a values record stays while any of its values is live).
 */
export function packBatch (batches: BatchOp[][], inlineMax: number): { rec: Uint8Array, values?: Uint8Array } {
  let size = 4
  let valueSize = 4
  for (const ops of batches) {
    for (const op of ops) {
      size += 5 + op.key.byteLength
      if (op.type === 'del') continue
      if (op.value.byteLength > inlineMax) { size += 8; valueSize += op.value.byteLength } else size += 4 + op.value.byteLength
    }
  }
  const w = new Writer(size)
  const v = valueSize > 4 ? new Writer(valueSize) : undefined
  for (const ops of batches) {
    for (const op of ops) {
      if (op.type === 'del') {
        w.byte(DEL)
        w.bytes(op.key)
      } else if (v !== undefined && op.value.byteLength > inlineMax) {
        w.byte(PUT_REF)
        w.bytes(op.key)
        w.u32(v.at)
        w.u32(op.value.byteLength)
        v.raw(op.value)
      } else {
        w.byte(PUT)
        w.bytes(op.key)
        w.bytes(op.value)
      }
    }
  }
  return { rec: w.seal(), values: v?.seal() }
}

/**
 * Calls `each` with every op of a batch record: the key (a view into `rec`) and, for a put,
 * its value (a view) or where it lies in the values record (`off`, `len`).
 */
export function readBatch (rec: Uint8Array, each: (key: Bytes, value?: Bytes, off?: number, len?: number) => void): void {
  const r = new Reader(rec)
  while (r.more()) {
    const type = r.byte()
    const key = r.bytes()
    if (type === PUT) each(key, r.bytes())
    else if (type === PUT_REF) each(key, undefined, r.u32(), r.u32())
    else if (type === DEL) each(key)
    else throw new RangeError(`unknown op type ${type}`)
  }
}

export type SnapshotEntry = { key: Bytes, value: Bytes } | { key: Bytes, ref: ValueRef }

/** Snapshot chunks of about `chunkBytes` each, of `entries` in their order. */
export function packSnapshot (entries: Iterable<SnapshotEntry>, chunkBytes: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let part: SnapshotEntry[] = []
  let size = 4
  const flush = (): void => {
    const w = new Writer(size)
    for (const e of part) {
      w.byte('ref' in e ? REF : INLINE)
      w.bytes(e.key)
      if ('ref' in e) {
        w.u32(e.ref.seq)
        w.u32(e.ref.off)
        w.u32(e.ref.len)
      } else {
        w.bytes(e.value)
      }
    }
    out.push(w.seal())
    part = []
    size = 4
  }
  for (const e of entries) {
    part.push(e)
    size += 5 + e.key.byteLength + ('ref' in e ? 12 : 4 + e.value.byteLength)
    if (size >= chunkBytes) flush()
  }
  if (part.length > 0) flush()
  return out
}

/** Calls `each` with every entry of a snapshot chunk (keys and inline values are views into `rec`). */
export function readSnapshot (rec: Uint8Array, each: (e: SnapshotEntry) => void): void {
  const r = new Reader(rec)
  while (r.more()) {
    const tag = r.byte()
    const key = r.bytes()
    if (tag === INLINE) each({ key, value: r.bytes() })
    else if (tag === REF) each({ key, ref: { seq: r.u32(), off: r.u32(), len: r.u32() } })
    else throw new RangeError(`unknown entry tag ${tag}`)
  }
}

/** Whether a record is whole: its last four bytes are the CRC-32 of the rest. */
export function intact (rec: Uint8Array): boolean {
  if (rec.byteLength < 4) return false
  const end = rec.byteLength - 4
  return new DataView(rec.buffer, rec.byteOffset, rec.byteLength).getUint32(end) === crc32(rec.subarray(0, end))
}

class Writer {
  readonly buf: Uint8Array
  private readonly view: DataView
  at = 0

  constructor (size: number) {
    this.buf = new Uint8Array(size)
    this.view = new DataView(this.buf.buffer)
  }

  byte (b: number): void { this.buf[this.at++] = b }
  u32 (n: number): void { this.view.setUint32(this.at, n); this.at += 4 }
  raw (b: Bytes): void {
    this.buf.set(b, this.at)
    this.at += b.byteLength
  }

  bytes (b: Bytes): void {
    this.u32(b.byteLength)
    this.raw(b)
  }

  seal (): Uint8Array {
    this.u32(crc32(this.buf.subarray(0, this.at)))
    return this.buf
  }
}

class Reader {
  private readonly view: DataView
  private readonly end: number
  at = 0

  constructor (private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.end = buf.byteLength - 4
  }

  more (): boolean { return this.at < this.end }
  byte (): number { return this.buf[this.at++] }
  u32 (): number { const n = this.view.getUint32(this.at); this.at += 4; return n }
  skip (n: number): void {
    if (this.at + n > this.end) throw new RangeError('record ends early')
    this.at += n
  }

  bytes (): Bytes {
    const n = this.u32()
    const start = this.at
    this.skip(n)
    return this.buf.subarray(start, start + n)
  }
}

const table = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 (IEEE), as zlib computes it. */
export function crc32 (b: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
