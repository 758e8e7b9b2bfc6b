import { computeCryptoHash } from '../../crypto/hash.ts'
import { varintSize, writeVarint } from '../../util/varint.ts'

export interface DataNode {
  composite: Uint8Array
  /** null marks a delete in a pending change. */
  value: Uint8Array | null
}

// Where each node's chaincode id ends (its 0x00), and the bytes hashed: reused, a block hashes a thousand buckets.
let separators = new Int32Array(64)
let scratch = new Uint8Array(1024)

/**
 * A leaf bucket's hash over its nodes (sorted by composite key): per chaincode,
 * varint-prefixed id and node count, then each key and value varint-prefixed.
 * Written straight from the composite keys, without splitting them into views.
 */
export function bucketHash (nodes: DataNode[]): Uint8Array | undefined {
  const n = nodes.length
  if (separators.length < n) separators = new Int32Array(n * 2)
  for (let i = 0; i < n; i++) {
    const at = nodes[i].composite.indexOf(0)
    if (at < 0) throw new Error('composite state key without separator')
    separators[i] = at
  }
  // Fabric leaves nodes of an empty chaincode id out of the hash, so do we.
  let size = 0
  for (let i = 0, j = 0; i < n; i = j) {
    j = groupEnd(nodes, i)
    const ccLength = separators[i]
    if (ccLength === 0) continue
    size += varintSize(ccLength) + ccLength + varintSize(j - i)
    for (let k = i; k < j; k++) {
      const keyLength = nodes[k].composite.length - ccLength - 1
      const valueLength = nodes[k].value?.length ?? 0
      size += varintSize(keyLength) + keyLength + varintSize(valueLength) + valueLength
    }
  }
  if (size === 0) return undefined
  if (scratch.length < size) scratch = new Uint8Array(size * 2)
  const out = scratch
  let o = 0
  for (let i = 0, j = 0; i < n; i = j) {
    j = groupEnd(nodes, i)
    const ccLength = separators[i]
    if (ccLength === 0) continue
    o = writeVarint(out, o, ccLength)
    o = copy(nodes[i].composite, 0, ccLength, out, o)
    o = writeVarint(out, o, j - i)
    for (let k = i; k < j; k++) {
      const { composite, value } = nodes[k]
      o = writeVarint(out, o, composite.length - ccLength - 1)
      o = copy(composite, ccLength + 1, composite.length, out, o)
      o = writeVarint(out, o, value?.length ?? 0)
      if (value !== null) { out.set(value, o); o += value.length }
    }
  }
  return computeCryptoHash(out.subarray(0, size))
}

/** End of the run of nodes from `i` with node i's chaincode id. */
function groupEnd (nodes: DataNode[], i: number): number {
  const cc = nodes[i].composite
  const length = separators[i]
  let j = i + 1
  for (; j < nodes.length && separators[j] === length; j++) {
    const other = nodes[j].composite
    let same = true
    for (let b = 0; b < length; b++) if (other[b] !== cc[b]) { same = false; break }
    if (!same) break
  }
  return j
}

function copy (from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): number {
  for (let i = start; i < end; i++) to[at++] = from[i]
  return at
}
