import { computeCryptoHash, fnv1a32 } from '../../crypto/hash.ts'
import { compareBytes, concatBytes, fromUtf8 } from '../../crypto/bytes.ts'
import type { Column, WriteBatch } from '../../storage/columns.ts'
import type { HashableState } from '../hashable-state.ts'
import { compositeKey, splitCompositeKey } from '../keys.ts'
import type { StateDelta } from '../state-delta.ts'
import { bucketHash, type DataNode } from './bucket-hash.ts'
import { BucketTreeConfig, type BucketTreeOptions } from './config.ts'
import { bucketNodeKey, dataNodeKey, decodeBucketNumber, encodeBucketNumber, marshalChildren, unmarshalChildren } from './encoding.ts'

type Children = (Uint8Array | undefined)[]

/** An inner node being recomputed: children hashes, and which of them the delta changed. */
interface WorkingNode {
  children: Children
  updated: boolean[]
  deleted: boolean
}

interface WorkingSet {
  /** Leaf data changes by bucket, each list sorted by composite key. */
  leaves: Map<number, DataNode[]>
  /** levels[level] = nodes of that level touched by the delta. */
  levels: Map<number, WorkingNode>[]
  hash?: Uint8Array
  computed: boolean
}

/**
 * Fabric's bucket tree: keys hash into numBuckets leaf buckets whose contents are hashed,
 * and inner nodes hash their children's hashes, so a block only rehashes the paths it touched.
 */
export class BucketTreeState implements HashableState {
  readonly config: BucketTreeConfig
  private readonly cache = new Map<string, Children>()
  private persistedHash?: Uint8Array
  private work?: WorkingSet

  private constructor (private readonly column: Column, options: BucketTreeOptions) {
    this.config = new BucketTreeConfig(options)
  }

  static async open (column: Column, options: BucketTreeOptions): Promise<BucketTreeState> {
    const s = new BucketTreeState(column, options)
    const root = await s.node(0, 1)
    s.persistedHash = root === undefined ? undefined : nodeHash(root)
    return s
  }

  bucketOf (composite: Uint8Array): number {
    return (fnv1a32(composite) % this.config.numBuckets) + 1
  }

  async get (chaincodeID: string, key: string): Promise<Uint8Array | null> {
    const composite = compositeKey(chaincodeID, key)
    return (await this.column.get(dataNodeKey(this.bucketOf(composite), composite))) ?? null
  }

  prepareWorkingSet (delta: StateDelta): void {
    if (delta.isEmpty()) return
    const leaves = new Map<number, DataNode[]>()
    for (const e of delta.entries()) {
      const composite = compositeKey(e.chaincodeID, e.key)
      const bucket = this.bucketOf(composite)
      let list = leaves.get(bucket)
      if (list === undefined) leaves.set(bucket, list = [])
      list.push({ composite, value: e.value })
    }
    for (const list of leaves.values()) list.sort((a, b) => compareBytes(a.composite, b.composite))
    this.work = { leaves, levels: this.config.bucketsAt.map(() => new Map()), computed: false }
  }

  async computeCryptoHash (): Promise<Uint8Array | undefined> {
    const w = this.work
    if (w === undefined) return this.persistedHash
    if (w.computed) return w.hash
    const lowest = this.config.lowestLevel
    for (const [bucket, updates] of w.leaves) {
      const existing = await this.bucketData(bucket)
      this.setChild(w, lowest - 1, bucket, bucketHash(merge(updates, existing)))
    }
    for (let level = lowest - 1; level >= 0; level--) {
      for (const [bucket, node] of w.levels[level]) {
        const stored = await this.node(level, bucket)
        if (stored !== undefined) {
          for (let i = 0; i < node.children.length; i++) if (!node.updated[i]) node.children[i] = stored[i]
        }
        const hash = nodeHash(node.children)
        node.deleted = hash === undefined
        if (level > 0) this.setChild(w, level - 1, bucket, hash)
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
    for (const [bucket, nodes] of w.leaves) {
      for (const n of nodes) {
        const key = dataNodeKey(bucket, n.composite)
        if (n.value === null) batch.del(this.column, key)
        else batch.put(this.column, key, n.value)
      }
    }
    w.levels.forEach((nodes, level) => {
      for (const [bucket, node] of nodes) {
        const key = bucketNodeKey(level, bucket)
        if (node.deleted) batch.del(this.column, key)
        else batch.put(this.column, key, marshalChildren(node.children))
      }
    })
  }

  clearWorkingSet (persisted: boolean): void {
    const w = this.work
    this.work = undefined
    if (!persisted || w === undefined || !w.computed) return
    this.persistedHash = w.hash
    w.levels.forEach((nodes, level) => {
      for (const [bucket, node] of nodes) {
        if (node.deleted) this.cache.delete(cacheKey(level, bucket))
        else this.cache.set(cacheKey(level, bucket), node.children)
      }
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

  private setChild (w: WorkingSet, level: number, childBucket: number, hash: Uint8Array | undefined): void {
    const parent = this.config.parentBucket(childBucket)
    let node = w.levels[level].get(parent)
    if (node === undefined) {
      const g = this.config.grouping
      node = { children: new Array(g).fill(undefined), updated: new Array(g).fill(false), deleted: false }
      w.levels[level].set(parent, node)
    }
    const i = this.config.childIndex(childBucket)
    node.children[i] = hash
    node.updated[i] = true
  }

  private async bucketData (bucket: number): Promise<DataNode[]> {
    const out: DataNode[] = []
    const prefixLength = encodeBucketNumber(bucket).length
    for await (const [key, value] of this.column.entries({ gte: encodeBucketNumber(bucket), lt: encodeBucketNumber(bucket + 1) })) {
      out.push({ composite: key.slice(prefixLength), value })
    }
    return out
  }

  private async node (level: number, bucket: number): Promise<Children | undefined> {
    const k = cacheKey(level, bucket)
    const cached = this.cache.get(k)
    if (cached !== undefined) return cached
    const bytes = await this.column.get(bucketNodeKey(level, bucket))
    if (bytes === undefined) return undefined
    const children = unmarshalChildren(bytes, this.config.grouping)
    this.cache.set(k, children)
    return children
  }
}

function cacheKey (level: number, bucket: number): string { return `${level}:${bucket}` }

/** Inner node hash: none → nothing, one child → that child's hash unchanged, else hash of the concatenation. */
function nodeHash (children: Children): Uint8Array | undefined {
  const present = children.filter((c): c is Uint8Array => c !== undefined)
  if (present.length === 0) return undefined
  if (present.length === 1) return present[0]
  return computeCryptoHash(concatBytes(...present))
}

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
