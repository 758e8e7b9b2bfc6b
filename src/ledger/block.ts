import { create, toBinary } from '@bufbuild/protobuf'
import { timestampFromMs, type Timestamp } from '@bufbuild/protobuf/wkt'
import { computeCryptoHash } from '../crypto/hash.ts'
import { BlockSchema, type Block, type Transaction } from '../protos/fabric_pb.ts'

/** Fabric's block hash: SHAKE256-64 of the block marshaled without nonHashData. */
export function blockHash (block: Block): Uint8Array {
  return computeCryptoHash(toBinary(BlockSchema, { ...block, nonHashData: undefined }))
}

/** protos.NewBlock: transactions and consensus metadata; the ledger fills in the rest. */
export function newBlock (transactions: Transaction[], consensusMetadata?: Uint8Array): Block {
  return create(BlockSchema, { transactions, consensusMetadata: consensusMetadata ?? new Uint8Array(0) })
}

/** util.CreateUtcTimestamp from an injected clock reading. */
export function timestampAt (ms: number): Timestamp {
  return timestampFromMs(ms)
}
