import { computeCryptoHash } from '../../crypto/hash.ts'
import type { ByteArena } from '../byte-arena.ts'
import type { BucketTreeConfig } from './config.ts'
import { varintSize, writeVarint } from '../../util/varint.ts'

/**
 * An inner node as the tree keeps it in memory: per child, its hash (undefined where that
 * subtree is empty). Hashes are shared and never changed: a rebuilt node takes its children's
 * as they are, and only its stored bytes (in the block's arena) copy them.
 */
export type InnerNode = (Uint8Array | undefined)[]

/**
 * The inner nodes of one level that a block changes, in flat arrays (a block changes
 * thousands): node j is bucket `buckets[j]`, its children `children[j * grouping + i]`.
 */
export interface WorkingLevel {
  /** Ascending. */
  buckets: number[]
  /** Per child, its new hash (undefined when that subtree became empty) or null while it is as stored. */
  children: (Uint8Array | null | undefined)[]
  /** The node as stored before the block, if it was. */
  stored: (InnerNode | undefined)[]
  /** The node once rebuilt; none when no child is left (then it is deleted). */
  nodes: (InnerNode | undefined)[]
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
    level: {
      buckets,
      children: new Array<Uint8Array | null | undefined>(n * config.grouping).fill(null),
      stored: new Array<InnerNode | undefined>(n).fill(undefined),
      nodes: new Array<InnerNode | undefined>(n).fill(undefined)
    },
    parentIndex
  }
}

/** Rebuilds node j from its stored children and changed ones, and returns its hash (none when no child is left). */
export function rebuildNode (level: WorkingLevel, j: number, grouping: number): Uint8Array | undefined {
  const stored = level.stored[j]
  const children = level.children
  const first = j * grouping
  const node: InnerNode = new Array<Uint8Array | undefined>(grouping)
  let present = 0
  for (let i = 0; i < grouping; i++) {
    const changed = children[first + i]
    const child = changed !== null ? changed : stored?.[i]
    node[i] = child
    if (child !== undefined) present++
  }
  level.nodes[j] = present === 0 ? undefined : node
  return present === 0 ? undefined : nodeHash(node)
}

/** A node's bytes to store, Fabric's (each child's hash varint-prefixed, 0 for none), in `arena`. */
export function encodeInnerNode (node: InnerNode, arena: ByteArena): Uint8Array {
  let size = 0
  for (const child of node) size += child === undefined ? 1 : varintSize(child.length) + child.length
  const out = arena.take(size)
  let o = 0
  for (const child of node) {
    if (child === undefined) { out[o++] = 0; continue }
    o = writeVarint(out, o, child.length)
    out.set(child, o)
    o += child.length
  }
  return out
}

/** A node as stored: `grouping` varint-prefixed hashes, each copied out (the bytes read can go). */
export function decodeInnerNode (bytes: Uint8Array, grouping: number): InnerNode {
  const node: InnerNode = new Array<Uint8Array | undefined>(grouping)
  let pos = 0
  for (let i = 0; i < grouping; i++) {
    let length = 0
    for (let shift = 1; ; shift *= 128) {
      if (pos >= bytes.length) throw new Error(`truncated bucket tree node (${bytes.length} bytes)`)
      const byte = bytes[pos++]
      length += (byte & 0x7f) * shift
      if (byte < 0x80) break
    }
    if (pos + length > bytes.length) throw new Error(`truncated bucket tree node (${bytes.length} bytes)`)
    node[i] = length === 0 ? undefined : bytes.slice(pos, pos + length)
    pos += length
  }
  return node
}

// The bytes hashed: reused, thousands of nodes a block.
let input = new Uint8Array(1024)

/** No child → no hash (the node is deleted); one → that child's hash passed up unchanged; more → the hash of their concatenation. */
export function nodeHash (node: InnerNode): Uint8Array | undefined {
  let present = 0
  let only: Uint8Array | undefined
  let size = 0
  for (let i = 0; i < node.length; i++) {
    const child = node[i]
    if (child === undefined) continue
    present++
    only = child
    size += child.length
  }
  if (present <= 1) return only
  if (input.length < size) input = new Uint8Array(size * 2)
  let h = 0
  for (let i = 0; i < node.length; i++) {
    const child = node[i]
    if (child === undefined) continue
    input.set(child, h)
    h += child.length
  }
  return computeCryptoHash(input.subarray(0, size))
}
