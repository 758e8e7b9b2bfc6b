import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { toHex } from '../../src/crypto/bytes.ts'
import { blockHash, timestampAt } from '../../src/ledger/block.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import {
  BlockSchema, Message_Type, SyncBlockRangeSchema, SyncBlocksSchema, SyncStateDeltasSchema, SyncStateSnapshotSchema, type Message
} from '../../src/protos/fabric_pb.ts'
import {
  getPeersMessage, syncBlockAddedMessage, syncBlocksMessage, syncGetBlocksMessage, syncGetDeltasMessage, syncGetSnapshotMessage
} from '../../src/peer/messages.ts'
import type { Peer } from '../../src/peer/peer.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { memoryChatPair, MemoryNetwork } from '../../src/transport/memory.ts'
import { commitBlocks, memoryPeer, newLedger } from './peer-helpers.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'

let logs: ReturnType<typeof captureLogs>
let peers: Peer[] = []
beforeEach(() => { logs = captureLogs(); peers = [] })
afterEach(async () => {
  await Promise.all(peers.map(async p => await p.stop()))
  logs.restore()
})

/** A peer with `blocks` blocks and a hand-driven remote that has said HELLO to it. */
async function served (blocks: number, opts: { deltaHistorySize?: number, validator?: boolean, catchUp?: boolean } = {}): Promise<{ p: Peer, s: ChatStream }> {
  const net = new MemoryNetwork()
  const ledger = await newLedger(opts)
  await commitBlocks(ledger, blocks)
  const p = await memoryPeer(net, 'vp0', { validator: opts.validator ?? true, catchUp: opts.catchUp ?? false }, { ledger })
  const other = await memoryPeer(net, 'nvp0', { validator: false, catchUp: false })
  peers.push(p, other)
  const [mine, theirs] = memoryChatPair('nvp0', 'vp0')
  void p.handleChat(theirs, false).catch(() => {})
  await mine.send(await other.newHelloMessage())
  expect((await mine.recv())?.type).toBe(Message_Type.DISC_HELLO)
  await waitFor('registered', () => p.peerIDs().includes('nvp0'))
  return { p, s: mine }
}

async function take (s: ChatStream, n: number, type: Message_Type): Promise<Message[]> {
  const out: Message[] = []
  while (out.length < n) {
    const m = await s.recv()
    if (m === undefined) throw new Error('stream ended')
    if (m.type === type) out.push(m)
  }
  return out
}

describe('sync messages', () => {
  it('SYNC_GET_BLOCKS: the blocks in order, ascending or descending, grouped in SYNC_BLOCKS whose range names them, echoing the correlation id', async () => {
    const { p, s } = await served(5)
    await s.send(syncGetBlocksMessage(41n, 1n, 3n))
    const [up] = (await take(s, 1, Message_Type.SYNC_BLOCKS)).map(m => fromBinary(SyncBlocksSchema, m.payload))
    expect([up.range?.correlationId, up.range?.start, up.range?.end]).toEqual([41n, 1n, 3n])
    expect(up.blocks.length).toBe(3)
    for (const [i, b] of up.blocks.entries()) {
      const stored = await p.ledger.getBlockByNumber(1 + i)
      expect(toBinary(BlockSchema, b)).toEqual(toBinary(BlockSchema, stored!))
    }
    await s.send(syncGetBlocksMessage(42n, 4n, 0n))
    const [down] = (await take(s, 1, Message_Type.SYNC_BLOCKS)).map(m => fromBinary(SyncBlocksSchema, m.payload))
    expect([down.range?.correlationId, down.range?.start, down.range?.end]).toEqual([42n, 4n, 0n])
    expect(down.blocks.map(b => toHex(blockHash(b)))).toEqual(await Promise.all([4, 3, 2, 1, 0].map(async n => toHex(blockHash((await p.ledger.getBlockByNumber(n))!)))))
  })

  it('SYNC_GET_BLOCKS past the end: the blocks it has, then an empty SYNC_BLOCKS for the first missing one', async () => {
    const { s } = await served(3)
    await s.send(syncGetBlocksMessage(7n, 2n, 1000n))
    const got = (await take(s, 2, Message_Type.SYNC_BLOCKS)).map(m => fromBinary(SyncBlocksSchema, m.payload))
    expect(got.map(b => [Number(b.range!.start), Number(b.range!.end), b.blocks.length])).toEqual([[2, 3, 2], [4, 4, 0]])
    await s.send(getPeersMessage()) // and nothing more came before the next answer
    expect((await s.recv())?.type).toBe(Message_Type.DISC_PEERS)
  })

  it('SYNC_STATE_GET_SNAPSHOT: chunks that rebuild the state, then an empty one; all of the same block', async () => {
    const { p, s } = await served(40)
    await s.send(syncGetSnapshotMessage(146n))
    const chunks = []
    while (true) {
      const [m] = await take(s, 1, Message_Type.SYNC_STATE_SNAPSHOT)
      const c = fromBinary(SyncStateSnapshotSchema, m.payload)
      chunks.push(c)
      if (c.delta.length === 0) break
    }
    expect(chunks.every(c => c.request?.correlationId === 146n && c.blockNumber === 40n)).toBe(true)
    expect(chunks.map(c => c.sequence)).toEqual([...chunks.slice(0, -1).map((_, i) => BigInt(i)), BigInt(Math.max(1, chunks.length - 1))])
    const rebuilt = new Map<string, string>()
    for (const c of chunks.slice(0, -1)) for (const e of StateDelta.unmarshal(c.delta).entries()) rebuilt.set(`${e.chaincodeID}/${e.key}`, toHex(e.value!))
    const expected = new Map<string, string>()
    for await (const [k, v] of p.ledger.rangeScan('mycc', '', '', true)) expected.set(`mycc/${k}`, toHex(v))
    expect(rebuilt).toEqual(expected)
  })

  it('SYNC_STATE_GET_DELTAS: each block\'s delta in Fabric\'s encoding; a discarded one is answered empty', async () => {
    const { p, s } = await served(30, { deltaHistorySize: 20 })
    await s.send(syncGetDeltasMessage(9n, 12n, 14n))
    const got = (await take(s, 3, Message_Type.SYNC_STATE_DELTAS)).map(m => fromBinary(SyncStateDeltasSchema, m.payload))
    for (const d of got) {
      const n = Number(d.range!.start)
      expect(d.range!.end).toBe(d.range!.start)
      expect(d.deltas).toEqual([(await p.ledger.getStateDelta(n))!.marshal()])
    }
    expect(got.map(d => Number(d.range!.start))).toEqual([12, 13, 14])
    await s.send(syncGetDeltasMessage(10n, 11n, 5n)) // 11 is still kept, 10 is gone
    const back = (await take(s, 2, Message_Type.SYNC_STATE_DELTAS)).map(m => fromBinary(SyncStateDeltasSchema, m.payload))
    expect(back.map(d => [Number(d.range!.start), d.deltas.length])).toEqual([[11, 1], [10, 0]])
  })

  it('requests carry fresh correlation ids; answers for another id are ignored', async () => {
    const { p, s } = await served(2)
    const h = p.getRemoteLedger('nvp0')
    const ch = await h.requestBlocks(5n, 5n)
    const [req] = await take(s, 1, Message_Type.SYNC_GET_BLOCKS)
    const cid = fromBinary(SyncBlockRangeSchema, req.payload).correlationId
    const block = (await p.ledger.getBlockByNumber(1))!
    await s.send(syncBlocksMessage(cid + 100n, 5n, block))
    await s.send(syncBlocksMessage(cid, 5n, block))
    const got = await ch.next(1000)
    expect(got?.range?.correlationId).toBe(cid)
    expect(ch.length).toBe(0) // the answer for another id, received first, was not queued
    const ch2 = await h.requestBlocks(6n, 6n)
    expect(ch.closed).toBe(true) // the new request abandons the old one
    const [req2] = await take(s, 1, Message_Type.SYNC_GET_BLOCKS)
    expect(fromBinary(SyncBlockRangeSchema, req2.payload)).toMatchObject({ correlationId: cid + 1n, start: 6n, end: 6n })
    expect(ch2.closed).toBe(false)
  })
})

describe('SYNC_BLOCK_ADDED', () => {
  it('a validator announces each block to non-validators, which add it after checking it', async () => {
    const net = new MemoryNetwork()
    const vp = await memoryPeer(net, 'vp0')
    const nvp = await memoryPeer(net, 'nvp0', { validator: false })
    const other = await memoryPeer(net, 'vp1')
    peers.push(vp, nvp, other)
    await nvp.chatWithPeer('vp0')
    await other.chatWithPeer('vp0')
    await waitFor('registered', () => vp.peerIDs().length === 2)
    await commitBlocks(vp.ledger, 3)
    await waitFor('nvp follows', () => nvp.ledger.height === 4)
    expect(toHex((await nvp.ledger.getBlockchainInfo()).currentBlockHash)).toBe(toHex((await vp.ledger.getBlockchainInfo()).currentBlockHash))
    expect(toHex((await nvp.ledger.getTempStateHash())!)).toBe(toHex((await vp.ledger.getTempStateHash())!))
    expect(other.ledger.height).toBe(1) // only NON_VALIDATOR peers are told
  })

  it('a validator ignores SYNC_BLOCK_ADDED (its blocks come from consensus)', async () => {
    const { p, s } = await served(0)
    const source = await newLedger()
    await commitBlocks(source, 1)
    const delta = (await source.getStateDelta(1))!
    await s.send(syncBlockAddedMessage((await source.getBlockByNumber(1))!, delta.marshal(), timestampAt(0)))
    await s.send(getPeersMessage())
    expect((await s.recv())?.type).toBe(Message_Type.DISC_PEERS) // no SYNC_GET_BLOCKS came first
    expect(p.ledger.height).toBe(1)
  })

  it('an announcement with a delta that does not match the block gets the announcer dropped', async () => {
    const { p, s } = await served(0, { validator: false, catchUp: true })
    const source = await newLedger()
    await commitBlocks(source, 1)
    const block = (await source.getBlockByNumber(1))!
    const wrong = new StateDelta()
    wrong.set('mycc', 'k1', new Uint8Array([1]), null)
    await s.send(syncBlockAddedMessage(block, wrong.marshal(), timestampAt(0)))
    const [req] = await take(s, 1, Message_Type.SYNC_GET_BLOCKS)
    expect(fromBinary(SyncBlockRangeSchema, req.payload)).toMatchObject({ start: 1n, end: 1n })
    await s.send(syncBlocksMessage(fromBinary(SyncBlockRangeSchema, req.payload).correlationId, 1n, block))
    await expect(s.recv()).rejects.toThrow(/dropped: the block nvp0 announced does not apply: state hash/)
    expect(p.ledger.height).toBe(1)
    expect(p.ledger.stateBlockNumber).toBe(0)
  })
})

describe('a snapshot asked for while a batch executes', () => {
  it('is sent once the batch is committed', async () => {
    const { p, s } = await served(3)
    p.ledger.beginTxBatch('busy')
    await s.send(syncGetSnapshotMessage(5n))
    await new Promise(resolve => setTimeout(resolve, 120))
    await commitOpenBatch(p)
    const chunks = []
    while (true) {
      const [m] = await take(s, 1, Message_Type.SYNC_STATE_SNAPSHOT)
      const c = fromBinary(SyncStateSnapshotSchema, m.payload)
      chunks.push(c)
      if (c.delta.length === 0) break
    }
    expect(chunks.every(c => c.blockNumber === 4n)).toBe(true) // the state after the batch
  })
})

async function commitOpenBatch (p: Peer): Promise<void> {
  p.ledger.txBegin('late')
  await p.ledger.setState('mycc', 'late', new Uint8Array([1]))
  p.ledger.txFinished('late', true)
  await p.ledger.commitTxBatch('busy', [], undefined)
}
