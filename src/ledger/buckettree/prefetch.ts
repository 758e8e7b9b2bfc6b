import type { Column } from '../../storage/columns.ts'
import type { LruMap } from '../../util/lru.ts'
import type { BucketCache } from './bucket-cache.ts'
import type { BucketTreeConfig } from './config.ts'
import { bucketNodeKey } from './encoding.ts'
import { decodeInnerNode, type InnerNode } from './inner-node.ts'

/** Reads gathered before they are sent: one batch serves a few dozen keys. */
const batchSize = 48

/**
 * Reads ahead, while a block executes, what its commit will need and memory lacks: the whole leaf
 * bucket of a key that was not in memory, and the inner nodes above it. A state of a million keys
 * does not fit the caches; without this a commit waits on a thousand reads it could have had.
 */
export class Prefetcher {
  private buckets: number[] = []
  private nodeIds: number[] = []
  private nodeKeys: Uint8Array[] = []
  private readonly askedBuckets = new Set<number>()
  private readonly askedNodes = new Set<number>()
  private inFlight: Promise<void>[] = []
  /** Bumped when storage changes under the caches: reads begun before then may be stale. */
  private generation = 0

  constructor (
    private readonly column: Column,
    private readonly config: BucketTreeConfig,
    private readonly data: BucketCache,
    private readonly nodes: LruMap<number, InnerNode>,
    private readonly nodeKey: (level: number, bucket: number) => number
  ) {}

  /** A key of `bucket` was read from storage: its bucket will likely change. */
  want (bucket: number): void {
    if (!this.askedBuckets.has(bucket) && this.data.known(bucket) === undefined) {
      this.askedBuckets.add(bucket)
      this.buckets.push(bucket)
    }
    let b = bucket
    for (let level = this.config.lowestLevel - 1; level >= 0; level--) {
      b = this.config.parentBucket(b)
      const id = this.nodeKey(level, b)
      if (this.askedNodes.has(id) || this.nodes.has(id)) continue
      this.askedNodes.add(id)
      this.nodeIds.push(id)
      this.nodeKeys.push(bucketNodeKey(level, b))
    }
    if (this.buckets.length + this.nodeKeys.length >= batchSize) this.flush()
  }

  /** Waits for every read asked for: its results are in the caches. */
  async settle (): Promise<void> {
    this.flush()
    const pending = this.inFlight
    this.inFlight = []
    await Promise.all(pending)
  }

  /** Storage changed (a commit): what is still in flight is dropped when it lands. */
  reset (): void {
    this.generation++
    this.buckets = []
    this.nodeIds = []
    this.nodeKeys = []
    this.askedBuckets.clear()
    this.askedNodes.clear()
    this.inFlight = []
  }

  private flush (): void {
    if (this.buckets.length === 0 && this.nodeKeys.length === 0) return
    const { generation, buckets, nodeIds, nodeKeys } = this
    this.buckets = []
    this.nodeIds = []
    this.nodeKeys = []
    this.inFlight.push(Promise.all([this.data.read(buckets.sort((a, b) => a - b)), this.column.getMany(nodeKeys)]).then(([data, values]) => {
      if (generation !== this.generation) return
      for (const [bucket, nodes] of data) if (this.data.known(bucket) === undefined) this.data.set(bucket, nodes)
      nodeIds.forEach((id, i) => {
        const value = values[i]
        if (value !== undefined && !this.nodes.has(id)) this.nodes.set(id, decodeInnerNode(value, this.config.grouping))
      })
    }, () => {
      // Only a head start: the commit reads whatever is still missing, and meets the error itself.
    }))
  }
}
