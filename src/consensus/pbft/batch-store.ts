import type { RequestBatch } from './messages.ts'
import type { PbftStore } from './persist.ts'

/**
 * A replica's request batches by digest (Fabric's reqBatchStore, persisted), with the ones it
 * still has to see ordered (outstanding) and the ones a new view assigned that it lacks (missing).
 */
export class BatchStore {
  readonly #batches = new Map<string, RequestBatch>()
  readonly #outstanding = new Map<string, RequestBatch>()
  readonly #missing = new Set<string>()

  /** `persisted`: the batches a restarted replica read back. */
  constructor (private readonly store: PbftStore, persisted: ReadonlyMap<string, RequestBatch>) {
    for (const [d, b] of persisted) this.#batches.set(d, b)
  }

  get all (): ReadonlyMap<string, RequestBatch> { return this.#batches }
  get outstanding (): ReadonlyMap<string, RequestBatch> { return this.#outstanding }
  get missing (): ReadonlySet<string> { return this.#missing }

  /** A request batch to order: kept (and persisted) until executed or forgotten. */
  storeOutstanding (digest: string, batch: RequestBatch): void {
    this.#batches.set(digest, batch)
    this.#outstanding.set(digest, batch)
    this.store.storeRequestBatch(digest, batch)
  }

  forgetOutstanding (digest: string): void { this.#outstanding.delete(digest) }

  clearOutstanding (): void { this.#outstanding.clear() }

  /** Drops these batches, but not those in `inUse`. */
  forget (digests: Iterable<string>, inUse: ReadonlySet<string>): void {
    for (const d of digests) {
      if (inUse.has(d)) continue
      this.#batches.delete(d)
      this.store.delRequestBatch(d)
    }
  }

  /** True when the batch was not missing already. */
  markMissing (digest: string): boolean {
    if (this.#missing.has(digest)) return false
    this.#missing.add(digest)
    return true
  }

  /** A batch a new view assigned, fetched from another replica. */
  storeMissing (digest: string, batch: RequestBatch): void {
    this.#batches.set(digest, batch)
    this.#missing.delete(digest)
    this.store.storeRequestBatch(digest, batch)
  }
}
