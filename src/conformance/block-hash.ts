import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { equalBytes, fromHex, toHex } from '../crypto/bytes.ts'
import { blockHash } from '../ledger/block.ts'
import { BlockSchema } from '../protos/fabric_pb.ts'
import { caseName, isObject, type CaseResult } from './result.ts'

/**
 * A "block-hash" case: the block decodes and re-encodes to Fabric's exact bytes, the bytes
 * hashed (block without nonHashData) are Fabric's, and so is the hash.
 */
export function checkBlockHashCase (c: unknown): CaseResult {
  const name = caseName(c)
  if (!isObject(c)) return { name, ok: false, detail: 'case is not an object' }
  if (typeof c.block_proto_hex !== 'string' || typeof c.hash_hex !== 'string') {
    return { name, ok: false, detail: 'case needs block_proto_hex and hash_hex' }
  }
  const bytes = fromHex(c.block_proto_hex)
  const block = fromBinary(BlockSchema, bytes)
  const again = toBinary(BlockSchema, block)
  if (!equalBytes(again, bytes)) return { name, ok: false, detail: `block re-encodes as ${toHex(again)}` }
  if (typeof c.hashed_bytes_hex === 'string') {
    const hashed = toBinary(BlockSchema, { ...block, nonHashData: undefined })
    if (toHex(hashed) !== c.hashed_bytes_hex.toLowerCase()) return { name, ok: false, detail: `hashed bytes differ: ${toHex(hashed)}` }
  }
  const hash = toHex(blockHash(block))
  if (hash !== c.hash_hex.toLowerCase()) return { name, ok: false, detail: `hash ${hash}, expected ${c.hash_hex}` }
  return { name, ok: true }
}
