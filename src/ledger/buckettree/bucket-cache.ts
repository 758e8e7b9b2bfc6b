import { compareBytes } from '../../crypto/bytes.ts'
import type { Column } from '../../storage/columns.ts'
import { LruMap } from '../../util/lru.ts'
import type { DataNode } from './bucket-hash.ts'
import { decodeBucketNumber, encodeBucketNumber } from './encoding.ts'

/**
 * Leaf buckets' contents (data nodes sorted by composite key), as stored: what a block's
 * hash needs besides its own writes, and what reads of single keys can be answered from.
 * While the whole state fits, every bucket is here and a bucket not here is empty, so
 * commits and reads touch storage not at all.
 */
export class BucketCache {
  private readonly buckets: LruMap<number, DataNode[]>
  /** Every non-empty bucket is cached. */
  private complete = false

  constructor (private readonly column: Column, capacity: number) {
    // Weight: data nodes held (an empty bucket counts one, it is remembered too).
    this.buckets = new LruMap(capacity, nodes => Math.max(1, nodes.length), () => { this.complete = false })
  }

  /** Loads the whole state if it fits; otherwise keeps what was read and stays partial. */
  async warm (): Promise<void> {
    const limit = this.buckets.capacity + 1
    let read = 0
    let bucket = 0
    let nodes: DataNode[] = []
    for await (const [key, value] of this.column.entries({ gte: encodeBucketNumber(1), limit })) {
      read++
      const { bucket: b, length } = decodeBucketNumber(key)
      if (b !== bucket) {
        if (nodes.length > 0) this.buckets.set(bucket, nodes)
        bucket = b
        nodes = []
      }
      nodes.push({ composite: key.subarray(length), value })
    }
    // Past the limit, the last bucket read may be cut short: leave it out.
    if (read < limit) {
      if (nodes.length > 0) this.buckets.set(bucket, nodes)
      this.complete = true
    }
  }

  /** The bucket's nodes if known without reading storage. */
  known (bucket: number): DataNode[] | undefined {
    return this.buckets.get(bucket) ?? (this.complete ? [] : undefined)
  }

  /**
   * A key's value if its bucket is known: null when the bucket lacks it. A copy: callers (a
   * chaincode in the peer's thread among them) may change what they are given.
   */
  lookup (bucket: number, composite: Uint8Array): Uint8Array | null | undefined {
    const nodes = this.known(bucket)
    if (nodes === undefined) return undefined
    let lo = 0
    let hi = nodes.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const c = compareBytes(nodes[mid].composite, composite)
      if (c === 0) return nodes[mid].value?.slice() ?? null
      if (c < 0) lo = mid + 1
      else hi = mid
    }
    return null
  }

  /** Contents of `buckets` (sorted ascending), from the cache or else read together. */
  async load (buckets: number[]): Promise<Map<number, DataNode[]>> {
    const out = new Map<number, DataNode[]>()
    const missing: number[] = []
    for (const b of buckets) {
      const nodes = this.known(b)
      if (nodes === undefined) missing.push(b)
      else out.set(b, nodes)
    }
    for (const [b, nodes] of await this.read(missing)) out.set(b, nodes)
    return out
  }

  /** Contents of `buckets` (sorted ascending) as stored, read together. */
  async read (buckets: number[]): Promise<Map<number, DataNode[]>> {
    const out = new Map<number, DataNode[]>()
    if (buckets.length === 0) return out
    const found = await this.column.readRanges(buckets.map(b => ({ gte: encodeBucketNumber(b), lt: encodeBucketNumber(b + 1) })))
    buckets.forEach((b, i) => {
      out.set(b, found[i].map(([key, value]) => ({ composite: key.subarray(decodeBucketNumber(key).length), value })))
    })
    return out
  }

  /** A bucket's contents after a persisted write. */
  set (bucket: number, nodes: DataNode[]): void {
    if (nodes.length === 0 && this.complete) this.buckets.delete(bucket)
    else this.buckets.set(bucket, nodes)
  }
}
