import { BinaryWriter } from '@bufbuild/protobuf/wire'
import { computeCryptoHash } from '../../crypto/hash.ts'
import { equalBytes } from '../../crypto/bytes.ts'
import { splitCompositeKey } from '../keys.ts'

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
  const w = new BinaryWriter()
  let written = false
  let i = 0
  while (i < nodes.length) {
    const [cc] = splitCompositeKey(nodes[i].composite)
    let j = i
    while (j < nodes.length && equalBytes(splitCompositeKey(nodes[j].composite)[0], cc)) j++
    // Fabric leaves nodes of an empty chaincode id out of the hash; so do we.
    if (cc.length === 0) { i = j; continue }
    written = true
    w.bytes(cc).uint32(j - i)
    for (; i < j; i++) {
      const [, key] = splitCompositeKey(nodes[i].composite)
      w.bytes(key).bytes(nodes[i].value ?? new Uint8Array(0))
    }
  }
  return written ? computeCryptoHash(w.finish()) : undefined
}
