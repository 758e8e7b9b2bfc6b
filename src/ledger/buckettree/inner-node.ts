import { computeCryptoHash } from '../../crypto/hash.ts'
import type { BucketTreeConfig } from './config.ts'
import { varintSize, writeVarint } from './varint.ts'

/**
 * The inner nodes of one level that a block changes, in flat arrays (a block changes
 * thousands): node j is bucket `buckets[j]`, its children `children[j * grouping + i]`.
 */
export interface WorkingLevel {
  /** Ascending. */
  buckets: number[]
  /** Per child, its new hash (undefined when that subtree became empty) or null while it is as stored. */
  children: (Uint8Array | null | undefined)[]
  /** The node as stored before the block (each child's hash varint-prefixed, 0 = none), if it was. */
  stored: (Uint8Array | undefined)[]
  /** The node to store once rebuilt; none when no child is left (then it is deleted). */
  values: (Uint8Array | undefined)[]
}

/** The level above `below` (ascending buckets): their parents, and for each of them its parent's index. */
export function parentLevel (below: number[], config: BucketTreeConfig): { level: WorkingLevel, parentIndex: Int32Array } {
  const buckets: number[] = []
  const parentIndex = new Int32Array(below.length)
  for (let i = 0; i < below.length; i++) {
    const parent = config.parentBucket(below[i])
    if (buckets.length === 0 || buckets[buckets.length - 1] !== parent) buckets.push(parent)
    parentIndex[i] = buckets.length - 1
  }
  const n = buckets.length
  return {
    level: { buckets, children: new Array<Uint8Array | null | undefined>(n * config.grouping).fill(null), stored: new Array(n).fill(undefined), values: new Array(n).fill(undefined) },
    parentIndex
  }
}

// Where each child's hash lies while a node is rebuilt, and the bytes hashed (reused: thousands of nodes a block).
const sources: (Uint8Array | undefined)[] = []
const starts: number[] = []
const lengths: number[] = []
let input = new Uint8Array(1024)

/**
 * Sets node j's new value and returns its hash, made straight from its stored bytes and
 * changed children: no child left → no hash (the node is deleted); one → that child's hash
 * passed up unchanged; more → the hash of their concatenation.
 */
export function rebuildNode (level: WorkingLevel, j: number, grouping: number): Uint8Array | undefined {
  const stored = level.stored[j]
  const children = level.children
  const first = j * grouping
  let pos = 0
  let valueSize = 0
  let hashSize = 0
  let present = 0
  let last = 0
  for (let i = 0; i < grouping; i++) {
    let source: Uint8Array | undefined
    let start = 0
    let length = 0
    if (stored !== undefined) {
      for (let shift = 1; ; shift *= 128) {
        const byte = stored[pos++]
        length += (byte & 0x7f) * shift
        if (byte < 0x80) break
      }
      if (length > 0) { source = stored; start = pos }
      pos += length
    }
    const changed = children[first + i]
    if (changed !== null) {
      source = changed
      start = 0
      length = changed?.length ?? 0
    }
    if (source === undefined) length = 0
    else { present++; hashSize += length; last = i }
    sources[i] = source
    starts[i] = start
    lengths[i] = length
    valueSize += varintSize(length) + length
  }
  if (present === 0) {
    level.values[j] = undefined
    return undefined
  }
  const value = new Uint8Array(valueSize)
  if (present > 1 && input.length < hashSize) input = new Uint8Array(hashSize * 2)
  let o = 0
  let h = 0
  for (let i = 0; i < grouping; i++) {
    o = writeVarint(value, o, lengths[i])
    const source = sources[i]
    if (source === undefined) continue
    copy(source, starts[i], lengths[i], value, o)
    if (present > 1) copy(source, starts[i], lengths[i], input, h)
    o += lengths[i]
    h += lengths[i]
  }
  level.values[j] = value
  if (present > 1) return computeCryptoHash(input.subarray(0, h))
  const only = sources[last]!
  return only === stored ? stored.subarray(starts[last], starts[last] + lengths[last]) : only
}

/** The hash of a node as stored (the root, when a ledger opens). */
export function storedNodeHash (stored: Uint8Array | undefined, grouping: number): Uint8Array | undefined {
  if (stored === undefined) return undefined
  const level: WorkingLevel = { buckets: [1], children: new Array(grouping).fill(null), stored: [stored], values: [undefined] }
  return rebuildNode(level, 0, grouping)
}

function copy (from: Uint8Array, start: number, length: number, to: Uint8Array, at: number): void {
  for (let i = 0; i < length; i++) to[at + i] = from[start + i]
}
