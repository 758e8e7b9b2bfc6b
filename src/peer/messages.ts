// Builders for the Chat messages the peer sends, field for field as Fabric 0.6.1 builds them
// (which carry a timestamp and which do not matters: the bytes are compared with Fabric's).
import { clone, create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf'
import type { Timestamp } from '@bufbuild/protobuf/wkt'
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire'
import {
  BlockSchema, BlockStateSchema, HelloMessageSchema, MessageSchema, Message_Type, PeersMessageSchema,
  SyncBlockRangeSchema, SyncBlocksSchema, SyncStateDeltasRequestSchema, SyncStateDeltasSchema,
  SyncStateSnapshotRequestSchema, SyncStateSnapshotSchema, TransactionSchema,
  type Block, type BlockchainInfo, type Message, type PeerEndpoint, type SyncStateSnapshotRequest, type Transaction
} from '../protos/fabric_pb.ts'

function message (type: Message_Type, payload?: Uint8Array, timestamp?: Timestamp): Message {
  return create(MessageSchema, { type, payload, timestamp })
}

export function helloMessage (endpoint: PeerEndpoint, blockchainInfo: BlockchainInfo, timestamp: Timestamp): Message {
  return message(Message_Type.DISC_HELLO, toBinary(HelloMessageSchema, create(HelloMessageSchema, { peerEndpoint: endpoint, blockchainInfo })), timestamp)
}

export function getPeersMessage (): Message {
  return message(Message_Type.DISC_GET_PEERS)
}

export function peersMessage (peers: PeerEndpoint[]): Message {
  return message(Message_Type.DISC_PEERS, toBinary(PeersMessageSchema, create(PeersMessageSchema, { peers })))
}

export function disconnectMessage (timestamp: Timestamp): Message {
  return message(Message_Type.DISC_DISCONNECT, undefined, timestamp)
}

export function chainTransactionMessage (tx: Transaction, timestamp: Timestamp): Message {
  return message(Message_Type.CHAIN_TRANSACTION, toBinary(TransactionSchema, tx), timestamp)
}

/** TransactionBlock { transactions } from transactions already marshaled: the bytes toBinary gives, none encoded again. */
export function transactionBlockBytes (transactions: readonly Uint8Array[]): Uint8Array {
  const w = new BinaryWriter()
  for (const tx of transactions) w.tag(1, WireType.LengthDelimited).bytes(tx)
  return w.finish()
}

export function syncGetBlocksMessage (correlationId: bigint, start: bigint, end: bigint): Message {
  return message(Message_Type.SYNC_GET_BLOCKS, toBinary(SyncBlockRangeSchema, create(SyncBlockRangeSchema, { correlationId, start, end })))
}

/** One block per message, its number as both ends of the range; no block = "I do not have it". */
export function syncBlocksMessage (correlationId: bigint, blockNumber: bigint, block: Block | undefined): Message {
  const range = create(SyncBlockRangeSchema, { correlationId, start: blockNumber, end: blockNumber })
  return message(Message_Type.SYNC_BLOCKS, toBinary(SyncBlocksSchema, create(SyncBlocksSchema, { range, blocks: block === undefined ? [] : [block] })))
}

/**
 * Consecutive blocks start..end (descending when start > end), already marshaled, in one
 * message: the bytes toBinary gives for SyncBlocks { range, blocks }, each block encoded once.
 */
export function syncBlocksGroupMessage (correlationId: bigint, start: bigint, end: bigint, blocks: readonly Uint8Array[]): Message {
  const w = new BinaryWriter()
  w.tag(1, WireType.LengthDelimited).bytes(toBinary(SyncBlockRangeSchema, create(SyncBlockRangeSchema, { correlationId, start, end })))
  for (const b of blocks) w.tag(2, WireType.LengthDelimited).bytes(b)
  return message(Message_Type.SYNC_BLOCKS, w.finish())
}

/** A block announced to non-validators: transaction payloads dropped, its state delta in Fabric's encoding. */
export function syncBlockAddedMessage (block: Block, stateDelta: Uint8Array, timestamp: Timestamp): Message {
  const payload = create(BlockStateSchema, { block: withoutPayloads(block), stateDelta })
  return message(Message_Type.SYNC_BLOCK_ADDED, toBinary(BlockStateSchema, payload), timestamp)
}

export function withoutPayloads (block: Block): Block {
  const b = clone(BlockSchema, block)
  for (const tx of b.transactions) tx.payload = new Uint8Array(0)
  return b
}

export function syncGetSnapshotMessage (correlationId: bigint): Message {
  return message(Message_Type.SYNC_STATE_GET_SNAPSHOT, toBinary(SyncStateSnapshotRequestSchema, create(SyncStateSnapshotRequestSchema, { correlationId })))
}

/** A snapshot chunk; an empty `delta` ends the snapshot. */
export function syncSnapshotMessage (request: SyncStateSnapshotRequest, sequence: bigint, blockNumber: bigint, delta: Uint8Array): Message {
  const chunk = create(SyncStateSnapshotSchema, { delta, sequence, blockNumber, request })
  return message(Message_Type.SYNC_STATE_SNAPSHOT, toBinary(SyncStateSnapshotSchema, chunk))
}

export function syncGetDeltasMessage (correlationId: bigint, start: bigint, end: bigint): Message {
  const range = create(SyncBlockRangeSchema, { correlationId, start, end })
  return message(Message_Type.SYNC_STATE_GET_DELTAS, toBinary(SyncStateDeltasRequestSchema, create(SyncStateDeltasRequestSchema, { range })))
}

/** One block's delta per message; no delta = "that delta is gone from my history". */
export function syncDeltasMessage (correlationId: bigint, blockNumber: bigint, delta: Uint8Array | undefined): Message {
  const range = create(SyncBlockRangeSchema, { correlationId, start: blockNumber, end: blockNumber })
  return message(Message_Type.SYNC_STATE_DELTAS, toBinary(SyncStateDeltasSchema, create(SyncStateDeltasSchema, { range, deltas: delta === undefined ? [] : [delta] })))
}

/** Decodes a message's payload; the error names what was expected, as Fabric's do. */
export function parsePayload<D extends DescMessage> (schema: D, msg: Message, what: string): MessageShape<D> {
  try {
    return fromBinary(schema, msg.payload)
  } catch (err) {
    throw new Error(`Error unmarshalling ${what}: ${(err as Error).message}`)
  }
}

export function typeName (type: Message_Type): string {
  return Message_Type[type] ?? String(type)
}
