// Batches written to IndexedDB by a Web Worker (idb-worker.ts) instead of the page: the page
// packs a batch's keys and values into one buffer and hands it over (transferred, not copied);
// the worker issues the puts on its own connection. The page reads on its own connection, and a
// write resolves only once its transaction is complete, so a read issued after sees it.
import type { BatchOp, Bytes } from '../src/storage/kv.ts'

export type WriterRequest =
  | { type: 'write', id: number, db: string, store: string, ops: ArrayBuffer }
  | { type: 'close', id: number, db: string }
export interface WriterReply { id: number, error?: { name: string, message: string } }

const PUT = 1
const DEL = 2

/** One buffer: per op a type byte, the key's length and bytes, and for a put the value's. */
export function packOps (ops: BatchOp[]): ArrayBuffer {
  let size = 0
  for (const op of ops) size += 5 + op.key.byteLength + (op.type === 'put' ? 4 + op.value.byteLength : 0)
  const buf = new ArrayBuffer(size)
  const bytes = new Uint8Array(buf)
  const view = new DataView(buf)
  let at = 0
  const put = (b: Bytes): void => {
    view.setUint32(at, b.byteLength)
    bytes.set(b, at + 4)
    at += 4 + b.byteLength
  }
  for (const op of ops) {
    bytes[at++] = op.type === 'put' ? PUT : DEL
    put(op.key)
    if (op.type === 'put') put(op.value)
  }
  return buf
}

/** Calls `each` with every op of a packed buffer (views into it), in order. */
export function unpackOps (buf: ArrayBuffer, each: (key: Bytes, value?: Bytes) => void): void {
  const view = new DataView(buf)
  let at = 0
  const take = (): Bytes => {
    const n = view.getUint32(at)
    const b = new Uint8Array(buf, at + 4, n)
    at += 4 + n
    return b
  }
  while (at < buf.byteLength) {
    const type = view.getUint8(at++)
    const key = take()
    each(key, type === PUT ? take() : undefined)
  }
}

/** The tab's one writer worker, started on first use. */
let shared: { worker: Worker, next: number, waiting: Map<number, { resolve: () => void, reject: (err: Error) => void }> } | undefined

function send (request: (id: number) => WriterRequest, transfer: ArrayBuffer[] = []): Promise<void> {
  if (shared === undefined) {
    const worker = new Worker(new URL('./idb-worker.ts', import.meta.url), { type: 'module', name: 'indexeddb writer' })
    const s = shared = { worker, next: 0, waiting: new Map() }
    worker.onmessage = (e: MessageEvent<WriterReply>) => {
      const w = s.waiting.get(e.data.id)
      s.waiting.delete(e.data.id)
      const err = e.data.error
      if (err === undefined) w?.resolve()
      else w?.reject(Object.assign(new Error(err.message), { name: err.name }))
    }
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault()
      for (const w of s.waiting.values()) w.reject(new Error(`the IndexedDB writer worker failed: ${e.message}`))
      s.waiting.clear()
    }
  }
  const s = shared
  const id = s.next++
  return new Promise((resolve, reject) => {
    s.waiting.set(id, { resolve, reject })
    s.worker.postMessage(request(id), transfer)
  })
}

/** Writes `ops` to object store `store` of database `db` in the worker; resolves once committed. */
export function writeInWorker (db: string, store: string, ops: BatchOp[]): Promise<void> {
  const packed = packOps(ops)
  return send(id => ({ type: 'write', id, db, store, ops: packed }), [packed])
}

/** Closes the worker's connection to `db` (before the database is closed or deleted). */
export function closeInWorker (db: string): Promise<void> {
  return shared === undefined ? Promise.resolve() : send(id => ({ type: 'close', id, db }))
}
