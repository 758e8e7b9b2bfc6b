// The Chat messages the peer builds, byte for byte against Fabric 0.6.1's (test/vectors/messages.json).
import { readFileSync } from 'node:fs'
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { TimestampSchema } from '@bufbuild/protobuf/wkt'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '../../src/crypto/bytes.ts'
import {
  BlockSchema, BlockStateSchema, HelloMessageSchema, MessageSchema, PeersMessageSchema, SyncBlockRangeSchema, SyncBlocksSchema, SyncStateSnapshotSchema,
  TransactionSchema, type Message
} from '../../src/protos/fabric_pb.ts'
import {
  chainTransactionMessage, disconnectMessage, getPeersMessage, helloMessage, peersMessage, syncBlockAddedMessage, syncBlocksGroupMessage, syncBlocksMessage,
  syncDeltasMessage, syncGetBlocksMessage, syncGetDeltasMessage, syncGetSnapshotMessage, syncSnapshotMessage
} from '../../src/peer/messages.ts'

interface Case { name: string, proto_hex: string, json: { timestamp?: { seconds: number, nanos: number } }, payload?: { proto_hex: string } }
const cases = (JSON.parse(readFileSync(new URL('../vectors/messages.json', import.meta.url), 'utf8')) as { cases: Case[] }).cases
const vector = (name: string): Case => {
  const c = cases.find(x => x.name === name)
  if (c === undefined) throw new Error(`no vector ${name}`)
  return c
}
const payloadOf = (name: string): Uint8Array => fromHex(vector(name).payload!.proto_hex)
const timestampOf = (name: string) => {
  const t = vector(name).json.timestamp!
  return create(TimestampSchema, { seconds: BigInt(t.seconds), nanos: t.nanos })
}
const bytes = (m: Message): string => toHex(toBinary(MessageSchema, m))

describe('Chat messages as Fabric builds them', () => {
  it('DISC_HELLO: HelloMessage{peerEndpoint, blockchainInfo} with a timestamp', () => {
    const hello = fromBinary(HelloMessageSchema, payloadOf('message_disc_hello'))
    expect(bytes(helloMessage(hello.peerEndpoint!, hello.blockchainInfo!, timestampOf('message_disc_hello')))).toBe(vector('message_disc_hello').proto_hex)
  })

  it('DISC_GET_PEERS, DISC_PEERS (no timestamp) and DISC_DISCONNECT', () => {
    expect(bytes(getPeersMessage())).toBe(vector('message_disc_get_peers').proto_hex)
    const peers = fromBinary(PeersMessageSchema, payloadOf('message_disc_peers')).peers
    expect(peers).toHaveLength(2)
    expect(bytes(peersMessage(peers))).toBe(vector('message_disc_peers').proto_hex)
    expect(bytes(disconnectMessage(timestampOf('message_disc_disconnect')))).toBe(vector('message_disc_disconnect').proto_hex)
  })

  it('CHAIN_TRANSACTION: the marshaled Transaction with a timestamp', () => {
    const tx = fromBinary(TransactionSchema, payloadOf('message_chain_transaction'))
    expect(bytes(chainTransactionMessage(tx, timestampOf('message_chain_transaction')))).toBe(vector('message_chain_transaction').proto_hex)
  })

  it('SYNC_GET_BLOCKS and SYNC_BLOCKS (one block, its number as both ends of the range)', () => {
    expect(bytes(syncGetBlocksMessage(32303n, 0n, 4n))).toBe(vector('message_sync_get_blocks').proto_hex)
    const block = fromBinary(SyncBlocksSchema, payloadOf('message_sync_blocks')).blocks[0]
    expect(bytes(syncBlocksMessage(32303n, 7n, block))).toBe(vector('message_sync_blocks').proto_hex)
  })

  it('SYNC_BLOCKS of several blocks: what toBinary gives for SyncBlocks { range, blocks }, one block the same bytes as Fabric\'s', () => {
    const block = fromBinary(SyncBlocksSchema, payloadOf('message_sync_blocks')).blocks[0]
    const encoded = toBinary(BlockSchema, block)
    expect(bytes(syncBlocksGroupMessage(32303n, 7n, 7n, [encoded]))).toBe(vector('message_sync_blocks').proto_hex)
    const other = create(BlockSchema, { ...block, stateHash: new Uint8Array([1, 2, 3]) })
    const group = syncBlocksGroupMessage(9n, 7n, 6n, [encoded, toBinary(BlockSchema, other)])
    const range = create(SyncBlockRangeSchema, { correlationId: 9n, start: 7n, end: 6n })
    expect(toHex(group.payload)).toBe(toHex(toBinary(SyncBlocksSchema, create(SyncBlocksSchema, { range, blocks: [block, other] }))))
  })

  it('SYNC_BLOCK_ADDED: the block without transaction payloads, and its delta', () => {
    const full = fromBinary(SyncBlocksSchema, payloadOf('message_sync_blocks')).blocks[0]
    expect(full.transactions[0].payload.length).toBeGreaterThan(0)
    const delta = fromBinary(BlockStateSchema, payloadOf('message_sync_block_added')).stateDelta
    expect(bytes(syncBlockAddedMessage(full, delta, timestampOf('message_sync_block_added')))).toBe(vector('message_sync_block_added').proto_hex)
    expect(full.transactions[0].payload.length).toBeGreaterThan(0) // the caller's block is left alone
  })

  it('SYNC_STATE_GET_SNAPSHOT, a snapshot chunk and the empty chunk that ends it', () => {
    expect(bytes(syncGetSnapshotMessage(146n))).toBe(vector('message_sync_state_get_snapshot').proto_hex)
    const chunk = fromBinary(SyncStateSnapshotSchema, payloadOf('message_sync_state_snapshot'))
    expect(bytes(syncSnapshotMessage(chunk.request!, 3n, 12n, chunk.delta))).toBe(vector('message_sync_state_snapshot').proto_hex)
    expect(bytes(syncSnapshotMessage(chunk.request!, 4n, 12n, new Uint8Array(0)))).toBe(vector('message_sync_state_snapshot_terminator').proto_hex)
  })

  it('SYNC_STATE_GET_DELTAS and SYNC_STATE_DELTAS (one delta per message)', () => {
    expect(bytes(syncGetDeltasMessage(9n, 2n, 4n))).toBe(vector('message_sync_state_get_deltas').proto_hex)
    expect(bytes(syncDeltasMessage(9n, 3n, fromHex('01046d796363010162000103323130')))).toBe(vector('message_sync_state_deltas').proto_hex)
  })
})
