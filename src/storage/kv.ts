/**
 * The key-value store the ledger needs: byte keys in byte order, range iteration and
 * atomic batches. LevelDB (Node), IndexedDB (browser) and memory all sit behind it.
 */
export type Bytes = Uint8Array

export type BatchOp =
  | { type: 'put', key: Bytes, value: Bytes }
  | { type: 'del', key: Bytes }

export interface RangeOptions {
  gte?: Bytes
  gt?: Bytes
  lt?: Bytes
  lte?: Bytes
  reverse?: boolean
  limit?: number
}

export interface KVStore {
  /** Where the data lives, for error messages. */
  readonly location: string
  get (key: Bytes): Promise<Bytes | undefined>
  /** Values of many keys, in their order (undefined where missing), read together. */
  getMany (keys: Bytes[]): Promise<(Bytes | undefined)[]>
  /**
   * An empty batch of this store's, to fill and then `write`. LevelDB copies each op into a
   * native batch as it is added, so that a block's thousands of ops and their bytes die young
   * instead of all living until the write; the other stores collect them (an OpList).
   */
  batch (): StoreBatch
  /**
   * Applies every op or none: an array, or a batch this store made. The ops' bytes may be views
   * into larger buffers the caller shares: a store copies what it keeps (LevelDB and the tab's
   * stores do by their nature).
   */
  write (ops: BatchOp[] | StoreBatch): Promise<void>
  entries (range: RangeOptions): AsyncIterable<[Bytes, Bytes]>
  /**
   * Every entry of each range (forward, no limit), read together: a block's bucket tree reads a
   * thousand small ranges, and one iterator each, one after another, costs more than the rest.
   */
  readRanges (ranges: RangeOptions[]): Promise<[Bytes, Bytes][][]>
  close (): Promise<void>
}

/** Ops gathered for one atomic KVStore.write. */
export interface StoreBatch {
  put (key: Bytes, value: Bytes): void
  del (key: Bytes): void
  readonly length: number
  /** Frees a batch that will not be written (after a write, it does nothing). */
  discard (): void
}

/** A batch kept as BatchOp[], for stores that take the ops only once they are all there. */
export class OpList implements StoreBatch {
  readonly ops: BatchOp[] = []

  put (key: Bytes, value: Bytes): void { this.ops.push({ type: 'put', key, value }) }
  del (key: Bytes): void { this.ops.push({ type: 'del', key }) }
  get length (): number { return this.ops.length }
  discard (): void { this.ops.length = 0 }
}

/** What a collecting store's write was given, as BatchOp[]. */
export function batchOps (ops: BatchOp[] | StoreBatch): BatchOp[] {
  if (Array.isArray(ops)) return ops
  if (ops instanceof OpList) return ops.ops
  throw new Error('a batch made by another store cannot be written here')
}

/** Raised when a store cannot be opened or used; `code` says why in a word. */
export class StorageError extends Error {
  constructor (readonly code: 'LOCKED' | 'CORRUPT' | 'NOT_OPEN' | 'IO' | 'QUOTA', message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StorageError'
  }
}
