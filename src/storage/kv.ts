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
   * Applies every op or none. The ops' bytes may be views into larger buffers the caller
   * shares: a store copies what it keeps (LevelDB and the tab's stores do by their nature).
   */
  write (ops: BatchOp[]): Promise<void>
  entries (range: RangeOptions): AsyncIterable<[Bytes, Bytes]>
  /**
   * Every entry of each range (forward, no limit), read together: a block's bucket tree reads a
   * thousand small ranges, and one iterator each, one after another, costs more than the rest.
   */
  readRanges (ranges: RangeOptions[]): Promise<[Bytes, Bytes][][]>
  close (): Promise<void>
}

/** Raised when a store cannot be opened or used; `code` says why in a word. */
export class StorageError extends Error {
  constructor (readonly code: 'LOCKED' | 'CORRUPT' | 'NOT_OPEN' | 'IO' | 'QUOTA', message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StorageError'
  }
}
