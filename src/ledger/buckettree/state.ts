import { fnv1a32 } from '../../crypto/hash.ts'
import { compareBytes, fromUtf8 } from '../../crypto/bytes.ts'
import type { Column, WriteBatch } from '../../storage/columns.ts'
import { LruMap } from '../../util/lru.ts'
import type { HashableState } from '../hashable-state.ts'
import { compositeKey, splitCompositeKey } from '../keys.ts'
import type { StateDelta } from '../state-delta.ts'
import { BucketCache } from './bucket-cache.ts'
import { Prefetcher } from './prefetch.ts'
import { bucketHash, type DataNode } from './bucket-hash.ts'
import { BucketTreeConfig, type BucketTreeOptions } from './config.ts'
import { bucketNodeKey, dataNodeKey, decodeBucketNumber, encodeBucketNumber } from './encoding.ts'
import { ByteArena } from '../byte-arena.ts'
import { decodeInnerNode, encodeInnerNode, nodeHash, parentLevel, rebuildNode, type InnerNode, type WorkingLevel } from './inner-node.ts'

interface WorkingSet {
  /** Leaf data changes by bucket, each list sorted by composite key. */
  leaves: Map<number, DataNode[]>
  /** Each changed leaf bucket's whole contents after the change, once computed. */
  merged: Map<number, DataNode[]>
  /** levels[level] = inner nodes of that level on the changed leaves' paths to the root (none below lowestLevel - 1). */
  levels: WorkingLevel[]
  hash?: Uint8Array
  computed: boolean
}

export interface BucketTreeCacheOptions {
  /** Data nodes of leaf buckets kept in memory (a state this small is held whole). */
  cachedDataNodes?: number
  /** Inner bucket nodes kept in memory (as stored, a few hundred bytes each). */
  cachedBucketNodes?: number
}

/**
 * Fabric's bucket tree: keys hash into numBuckets leaf buckets whose contents are hashed,
 * and inner nodes hash their children's hashes, so a block only rehashes the paths it touched.
 */
export class BucketTreeState implements HashableState {
  readonly config: BucketTreeConfig
  /** Inner nodes, by nodeKey. */
  private readonly nodes: LruMap<number, InnerNode>
  private readonly data: BucketCache
  private readonly prefetch: Prefetcher
  private persistedHash?: Uint8Array
  private work?: WorkingSet

  private constructor (private readonly column: Column, options: BucketTreeOptions, cache: BucketTreeCacheOptions) {
    this.config = new BucketTreeConfig(options)
    this.nodes = new LruMap(cache.cachedBucketNodes ?? 50_000)
    this.data = new BucketCache(column, cache.cachedDataNodes ?? 50_000)
    this.prefetch = new Prefetcher(column, this.config, this.data, this.nodes, nodeKey)
  }

  static async open (column: Column, options: BucketTreeOptions, cache: BucketTreeCacheOptions = {}): Promise<BucketTreeState> {
    const s = new BucketTreeState(column, options, cache)
    const root = await column.get(bucketNodeKey(0, 1))
    s.persistedHash = root === undefined ? undefined : nodeHash(decodeInnerNode(root, s.config.grouping))
    await s.data.warm()
    return s
  }

  bucketOf (composite: Uint8Array): number {
    return (fnv1a32(composite) % this.config.numBuckets) + 1
  }

  async get (chaincodeID: string, key: string): Promise<Uint8Array | null> {
    const composite = compositeKey(chaincodeID, key)
    const bucket = this.bucketOf(composite)
    const cached = this.data.lookup(bucket, composite)
    if (cached !== undefined) return cached
    this.prefetch.want(bucket)
    return (await this.column.get(dataNodeKey(bucket, composite))) ?? null
  }

  prepareWorkingSet (delta: StateDelta): void {
    if (delta.isEmpty()) return
    const leaves = new Map<number, DataNode[]>()
    // Any order: each bucket's list is sorted below.
    for (const [cc, kvs] of delta.chaincodes) {
      for (const [key, u] of kvs) {
        const composite = compositeKey(cc, key)
        const bucket = this.bucketOf(composite)
        let list = leaves.get(bucket)
        if (list === undefined) leaves.set(bucket, list = [])
        // Its own copy: these values stay in the bucket cache, and a view would pin the message it came in.
        list.push({ composite, value: u.value === null ? null : u.value.slice() })
      }
    }
    for (const list of leaves.values()) if (list.length > 1) list.sort(byComposite)
    this.work = { leaves, merged: new Map(), levels: [], computed: false }
  }

  async computeCryptoHash (): Promise<Uint8Array | undefined> {
    const w = this.work
    if (w === undefined) return this.persistedHash
    if (w.computed) return w.hash
    const lowest = this.config.lowestLevel
    const leafBuckets = [...w.leaves.keys()].sort((a, b) => a - b)
    // The inner nodes on the changed leaves' paths to the root, level by level, each child's parent found once.
    const g = this.config.grouping
    const parentIndexes: Int32Array[] = []
    let below = leafBuckets
    for (let level = lowest - 1; level >= 0; level--) {
      const { level: nodes, parentIndex } = parentLevel(below, this.config)
      w.levels[level] = nodes
      parentIndexes[level + 1] = parentIndex
      below = nodes.buckets
    }
    // What memory lacks is read at once: the changed leaf buckets' other data nodes, and those inner nodes.
    await this.prefetch.settle()
    const [existing] = await Promise.all([this.data.load(leafBuckets), this.readNodes(w.levels)])
    leafBuckets.forEach((bucket, i) => {
      const merged = merge(w.leaves.get(bucket)!, existing.get(bucket)!)
      w.merged.set(bucket, merged)
      w.levels[lowest - 1].children[parentIndexes[lowest][i] * g + this.config.childIndex(bucket)] = bucketHash(merged)
    })
    for (let level = lowest - 1; level >= 0; level--) {
      const nodes = w.levels[level]
      for (let j = 0; j < nodes.buckets.length; j++) {
        const hash = rebuildNode(nodes, j, g)
        if (level > 0) w.levels[level - 1].children[parentIndexes[level][j] * g + this.config.childIndex(nodes.buckets[j])] = hash
        else w.hash = hash
      }
    }
    w.computed = true
    return w.hash
  }

  async addChangesForPersistence (batch: WriteBatch): Promise<void> {
    const w = this.work
    if (w === undefined) return
    await this.computeCryptoHash()
    const { prefix } = this.column
    // The block's stored bytes in a few large buffers rather than thousands of small ones.
    const arena = new ByteArena()
    for (const [bucket, nodes] of w.leaves) {
      for (const n of nodes) {
        const key = dataNodeKey(bucket, n.composite, prefix, arena)
        if (n.value === null) batch.delStoreKey(key)
        else batch.putStoreKey(key, arena.copy(n.value))
      }
    }
    for (let level = 0; level < w.levels.length; level++) {
      const { buckets, nodes } = w.levels[level]
      for (let j = 0; j < buckets.length; j++) {
        const key = bucketNodeKey(level, buckets[j], prefix, arena)
        const node = nodes[j]
        if (node === undefined) batch.delStoreKey(key)
        else batch.putStoreKey(key, encodeInnerNode(node, arena))
      }
    }
  }

  clearWorkingSet (persisted: boolean): void {
    const w = this.work
    this.work = undefined
    this.prefetch.reset()
    if (!persisted || w === undefined || !w.computed) return
    this.persistedHash = w.hash
    for (const [bucket, nodes] of w.merged) this.data.set(bucket, nodes)
    w.levels.forEach((nodes, level) => {
      nodes.buckets.forEach((bucket, j) => {
        const node = nodes.nodes[j]
        if (node === undefined) this.nodes.delete(nodeKey(level, bucket))
        else this.nodes.set(nodeKey(level, bucket), node)
      })
    })
  }

  async * rangeScan (chaincodeID: string, startKey: string, endKey: string): AsyncIterable<[string, Uint8Array]> {
    // One pass over all data nodes gives Fabric's order: bucket by bucket, key bytes within a bucket.
    const lo = compositeKey(chaincodeID, startKey)
    const hi = endKey === '' ? undefined : compositeKey(chaincodeID, endKey)
    const ccPrefix = compositeKey(chaincodeID, '')
    for await (const [composite, value] of this.snapshotEntries()) {
      if (!startsWith(composite, ccPrefix) || compareBytes(composite, lo) < 0) continue
      if (hi !== undefined && compareBytes(composite, hi) > 0) continue
      yield [fromUtf8(splitCompositeKey(composite)[1]), value]
    }
  }

  async * snapshotEntries (): AsyncIterable<[Uint8Array, Uint8Array]> {
    for await (const [key, value] of this.column.entries({ gte: encodeBucketNumber(1) })) {
      const { length } = decodeBucketNumber(key)
      yield [key.subarray(length), value]
    }
  }

  /** Sets each node's stored value, from the cache or else read together. */
  private async readNodes (levels: WorkingLevel[]): Promise<void> {
    const missing: [WorkingLevel, number][] = []
    const keys: Uint8Array[] = []
    levels.forEach((nodes, level) => {
      nodes.buckets.forEach((bucket, j) => {
        const stored = this.nodes.get(nodeKey(level, bucket))
        if (stored !== undefined) nodes.stored[j] = stored
        else { missing.push([nodes, j]); keys.push(bucketNodeKey(level, bucket)) }
      })
    })
    if (keys.length === 0) return
    const read = await this.column.getMany(keys)
    missing.forEach(([nodes, j], i) => {
      const bytes = read[i]
      if (bytes !== undefined) nodes.stored[j] = decodeInnerNode(bytes, this.config.grouping)
    })
  }
}

/** One number for a node's place: levels are fewer than 64; a small integer while buckets are below 2^24. */
function nodeKey (level: number, bucket: number): number { return bucket * 64 + level }

function byComposite (a: DataNode, b: DataNode): number { return compareBytes(a.composite, b.composite) }

/** The bucket's contents after the update: updates win over stored nodes, deletes drop out. */
function merge (updates: DataNode[], existing: DataNode[]): DataNode[] {
  const out: DataNode[] = []
  let i = 0
  let j = 0
  while (i < updates.length || j < existing.length) {
    const c = i >= updates.length ? 1 : j >= existing.length ? -1 : compareBytes(updates[i].composite, existing[j].composite)
    const next = c <= 0 ? updates[i++] : existing[j++]
    if (c === 0) j++
    if (next.value !== null) out.push(next)
  }
  return out
}

function startsWith (b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false
  return true
}
