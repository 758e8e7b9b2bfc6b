import { computeCryptoHash } from '../../crypto/hash.ts'
import { varintSize, writeVarint } from './varint.ts'

/**
 * An inner bucket node a block changes: per child, its new hash (undefined when that subtree
 * became empty) or null while it is as stored.
 */
export interface WorkingNode {
  children: (Uint8Array | null | undefined)[]
  /** The node as stored before the block (each child's hash varint-prefixed, 0 = none), if it was. */
  stored?: Uint8Array
  /** The node to store once rebuilt; none when no child is left (then it is deleted). */
  value?: Uint8Array
}

export function newWorkingNode (grouping: number): WorkingNode {
  return { children: new Array(grouping).fill(null) }
}

// Where each child's hash lies while a node is rebuilt (reused: thousands of nodes a block).
const sources: (Uint8Array | undefined)[] = []
const starts: number[] = []
const lengths: number[] = []

/**
 * Sets the node's new value and returns its hash, made straight from its stored bytes and
 * changed children: no child left → no hash (the node is deleted); one → that child's hash
 * passed up unchanged; more → the hash of their concatenation.
 */
export function rebuildNode (node: WorkingNode): Uint8Array | undefined {
  const g = node.children.length
  const stored = node.stored
  let pos = 0
  let valueSize = 0
  let hashSize = 0
  let present = 0
  for (let i = 0; i < g; i++) {
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
    const changed = node.children[i]
    if (changed !== null) {
      source = changed
      start = 0
      length = changed?.length ?? 0
    }
    if (source === undefined) length = 0
    else { present++; hashSize += length }
    sources[i] = source
    starts[i] = start
    lengths[i] = length
    valueSize += varintSize(length) + length
  }
  if (present === 0) return undefined
  const value = new Uint8Array(valueSize)
  const input = present > 1 ? new Uint8Array(hashSize) : undefined
  let only: Uint8Array | undefined
  let o = 0
  let h = 0
  for (let i = 0; i < g; i++) {
    o = writeVarint(value, o, lengths[i])
    const source = sources[i]
    if (source === undefined) continue
    copy(source, starts[i], lengths[i], value, o)
    if (input !== undefined) copy(source, starts[i], lengths[i], input, h)
    else only = value.subarray(o, o + lengths[i])
    o += lengths[i]
    h += lengths[i]
  }
  node.value = value
  return input !== undefined ? computeCryptoHash(input) : only
}

function copy (from: Uint8Array, start: number, length: number, to: Uint8Array, at: number): void {
  for (let i = 0; i < length; i++) to[at + i] = from[start + i]
}
