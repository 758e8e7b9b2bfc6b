import { create, toBinary } from '@bufbuild/protobuf'
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire'
import { timestampFromMs, type Timestamp } from '@bufbuild/protobuf/wkt'
import { computeCryptoHash } from '../crypto/hash.ts'
import { BlockSchema, NonHashDataSchema, type Block, type Transaction } from '../protos/fabric_pb.ts'

/** Fabric's block hash: SHAKE256-64 of the block marshaled without nonHashData. */
export function blockHash (block: Block): Uint8Array {
  return computeCryptoHash(toBinary(BlockSchema, { ...block, nonHashData: undefined }))
}

/**
 * The block's stored bytes and its hash from one encoding: nonHashData is the last field, so the
 * stored bytes are the hashed ones followed by it (a block of 500 transactions is worth not
 * encoding twice). A block carrying unknown fields, which go after every known one, is encoded twice.
 */
export function encodeBlock (block: Block): { bytes: Uint8Array, hash: Uint8Array } {
  const hashed = toBinary(BlockSchema, { ...block, nonHashData: undefined })
  const hash = computeCryptoHash(hashed)
  if (block.nonHashData === undefined) return { bytes: hashed, hash }
  if ((block.$unknown?.length ?? 0) > 0) return { bytes: toBinary(BlockSchema, block), hash }
  const tail = toBinary(NonHashDataSchema, block.nonHashData)
  const w = new BinaryWriter().tag(nonHashDataField, WireType.LengthDelimited).bytes(tail).finish()
  const bytes = new Uint8Array(hashed.length + w.length)
  bytes.set(hashed, 0)
  bytes.set(w, hashed.length)
  return { bytes, hash }
}

const nonHashDataField = BlockSchema.field.nonHashData.number

/** protos.NewBlock: transactions and consensus metadata; the ledger fills in the rest. */
export function newBlock (transactions: Transaction[], consensusMetadata?: Uint8Array): Block {
  return create(BlockSchema, { transactions, consensusMetadata: consensusMetadata ?? new Uint8Array(0) })
}

/** util.CreateUtcTimestamp from an injected clock reading. */
export function timestampAt (ms: number): Timestamp {
  return timestampFromMs(ms)
}
