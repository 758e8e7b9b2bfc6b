import { computeCryptoHash } from '../../crypto/hash.ts'
import { equalBytes } from '../../crypto/bytes.ts'
import { splitCompositeKey } from '../keys.ts'
import { varintSize, writeBytes, writeVarint } from './varint.ts'

export interface DataNode {
  composite: Uint8Array
  /** null marks a delete in a pending change. */
  value: Uint8Array | null
}

/**
 * A leaf bucket's hash over its nodes (sorted by composite key): per chaincode,
 * varint-prefixed id and node count, then each key and value varint-prefixed.
 */
export function bucketHash (nodes: DataNode[]): Uint8Array | undefined {
  // Chaincode groups as [start, end) runs; Fabric leaves nodes of an empty chaincode id out of the hash, so do we.
  const groups: [Uint8Array, number, number][] = []
  const parts = nodes.map(n => splitCompositeKey(n.composite))
  for (let i = 0; i < nodes.length;) {
    const cc = parts[i][0]
    let j = i + 1
    while (j < nodes.length && equalBytes(parts[j][0], cc)) j++
    if (cc.length > 0) groups.push([cc, i, j])
    i = j
  }
  if (groups.length === 0) return undefined
  let size = 0
  for (const [cc, i, j] of groups) {
    size += varintSize(cc.length) + cc.length + varintSize(j - i)
    for (let k = i; k < j; k++) {
      const key = parts[k][1]
      const value = nodes[k].value ?? empty
      size += varintSize(key.length) + key.length + varintSize(value.length) + value.length
    }
  }
  const out = new Uint8Array(size)
  let o = 0
  for (const [cc, i, j] of groups) {
    o = writeVarint(out, writeBytes(out, o, cc), j - i)
    for (let k = i; k < j; k++) o = writeBytes(out, writeBytes(out, o, parts[k][1]), nodes[k].value ?? empty)
  }
  return computeCryptoHash(out)
}

const empty = new Uint8Array(0)
