import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { equalBytes, toHex, utf8 } from '../../src/crypto/bytes.ts'
import type { Ledger } from '../../src/ledger/ledger.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import { Message_Type, SyncBlocksSchema, SyncStateDeltasSchema, SyncStateSnapshotSchema, type Message } from '../../src/protos/fabric_pb.ts'
import { createPeer, type Peer } from '../../src/peer/peer.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { memoryChatPair, MemoryNetwork } from '../../src/transport/memory.ts'
import { commitBlocks, memoryPeer, newLedger, testInit } from './peer-helpers.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'
import { editedStream, typeNames } from './peer-observers.ts'

let logs: ReturnType<typeof captureLogs>
let peers: Peer[] = []
beforeEach(() => { logs = captureLogs(); peers = [] })
afterEach(async () => {
  await Promise.all(peers.map(async p => await p.stop()))
  logs.restore()
})

async function sameChainAndState (a: Ledger, b: Ledger): Promise<void> {
  const [ia, ib] = [await a.getBlockchainInfo(), await b.getBlockchainInfo()]
  expect(ia.height).toBe(ib.height)
  expect(toHex(ia.currentBlockHash)).toBe(toHex(ib.currentBlockHash))
  expect(toHex((await a.getTempStateHash()) ?? new Uint8Array(0))).toBe(toHex((await b.getTempStateHash()) ?? new Uint8Array(0)))
  expect(a.stateBlockNumber).toBe(a.height - 1)
  expect(await a.verifyChain(a.height - 1, 0)).toBe(0)
}

/** A peer whose outgoing messages pass through `edit` (a liar, for tests). */
function lyingPeer (net: MemoryNetwork, id: string, ledger: Ledger, edit: (m: Message) => Message): Peer {
  const p = createPeer(testInit(id), { ledger, dialer: net.dialer(id) })
  net.listen(id, { handleChat: async (s, initiated) => await p.handleChat(editedStream(s, edit), initiated), processTransaction: async tx => await p.processTransaction(tx) })
  peers.push(p)
  return p
}

/** A started peer with `ledger`, and every message it sends. */
async function sourcePeer (net: MemoryNetwork, id: string, ledger: Ledger): Promise<{ peer: Peer, sent: Message[] }> {
  const sent: Message[] = []
  const peer = lyingPeer(net, id, ledger, m => { sent.push(m); return m })
  await peer.start()
  return { peer, sent }
}

async function chainOf (blocks: number, opts: { deltaHistorySize?: number, tag?: string } = {}): Promise<Ledger> {
  const l = await newLedger(opts)
  await commitBlocks(l, blocks, opts)
  return l
}

describe('state transfer over the memory transport', () => {
  it('a fresh peer catches up with a peer that has 1,000 blocks (snapshot, then verified)', async () => {
    const net = new MemoryNetwork()
    const source = await chainOf(1000)
    const { sent } = await sourcePeer(net, 'vp0', source)
    const fresh = await memoryPeer(net, 'nvp0', { validator: false })
    peers.push(fresh)
    const t0 = Date.now()
    await fresh.chatWithPeer('vp0')
    await waitFor('caught up', () => fresh.ledger.stateBlockNumber === 1000, 30_000)
    await sameChainAndState(fresh.ledger, source)
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect(typeNames(sent)).toContain('SYNC_STATE_SNAPSHOT')
    expect(typeNames(sent)).not.toContain('SYNC_STATE_DELTAS')
    // the snapshot's block has no delta here, the blocks before it neither: they are served as missing
    expect(await fresh.ledger.getStateDelta(999)).toBeUndefined()
  })

  it('a peer 50 blocks behind plays the deltas forward and keeps them', async () => {
    const net = new MemoryNetwork()
    const { peer: source, sent } = await sourcePeer(net, 'vp0', await chainOf(150))
    const behind = await memoryPeer(net, 'nvp0', { validator: false }, { ledger: await chainOf(100) })
    peers.push(behind)
    await behind.chatWithPeer('vp0')
    await waitFor('caught up', () => behind.ledger.stateBlockNumber === 150)
    await sameChainAndState(behind.ledger, source.ledger)
    expect((await behind.ledger.getStateDelta(120))!.marshal()).toEqual((await source.ledger.getStateDelta(120))!.marshal())
    expect(typeNames(sent)).toContain('SYNC_STATE_DELTAS')
    expect(typeNames(sent)).not.toContain('SYNC_STATE_SNAPSHOT')
  })

  it('fetches again, and checks, the verified blocks it could not keep in memory', async () => {
    const net = new MemoryNetwork()
    const source = await chainOf(60)
    peers.push(await memoryPeer(net, 'vp0', {}, { ledger: source }))
    let asked = 0
    const behind = await memoryPeer(net, 'nvp0', { validator: false, catchUp: false, stateTransfer: { maxBufferedBlocks: 5 } }, { ledger: await chainOf(20) })
    peers.push(behind)
    await behind.chatWithPeer('vp0')
    await waitFor('connected', () => behind.peerIDs().length === 1)
    const h = behind.getRemoteLedger('vp0')
    const request = h.requestBlocks.bind(h)
    h.requestBlocks = async (start, end) => { asked++; return await request(start, end) }
    const open = h.openBlockRequest.bind(h)
    h.openBlockRequest = async (start, end) => { asked++; return await open(start, end) }
    expect(await behind.catchUp()).toEqual({ ok: true, blockNumber: 60 })
    await sameChainAndState(behind.ledger, source)
    expect(asked).toBe(4 + 35) // 40 blocks in requests of 10, then one by one the 35 not kept
  })

  it('falls back to a snapshot when the deltas are gone from the source\'s history', async () => {
    const net = new MemoryNetwork()
    const source = await chainOf(150, { deltaHistorySize: 10 })
    const { sent } = await sourcePeer(net, 'vp0', source)
    const behind = await memoryPeer(net, 'nvp0', { validator: false }, { ledger: await chainOf(100) })
    peers.push(behind)
    await behind.chatWithPeer('vp0')
    await waitFor('caught up', () => behind.ledger.stateBlockNumber === 150)
    await sameChainAndState(behind.ledger, source)
    // Asked for the deltas from block 101 on, vp0 answers that it has none; then it sends a snapshot.
    const deltas = sent.filter(m => m.type === Message_Type.SYNC_STATE_DELTAS).map(m => fromBinary(SyncStateDeltasSchema, m.payload))
    expect(deltas.map(d => [Number(d.range?.start), d.deltas.length])).toEqual([[101, 0]])
    expect(sent.findIndex(m => m.type === Message_Type.SYNC_STATE_SNAPSHOT)).toBeGreaterThan(sent.findIndex(m => m.type === Message_Type.SYNC_STATE_DELTAS))
  })

  it('detects a peer that sends a tampered block, drops it and completes from another', async () => {
    const net = new MemoryNetwork()
    const source = await chainOf(300)
    let lies = 0
    const liar = lyingPeer(net, 'vp0', await chainOf(300), m => {
      if (m.type !== Message_Type.SYNC_BLOCKS) return m
      const sb = fromBinary(SyncBlocksSchema, m.payload)
      if (sb.range?.start !== 150n || sb.blocks.length === 0) return m
      lies++
      sb.blocks[0].transactions[0].txid = 'forged'
      return { ...m, payload: toBinary(SyncBlocksSchema, sb) }
    })
    await liar.start()
    peers.push(await memoryPeer(net, 'vp1', {}, { ledger: source }))
    const fresh = await memoryPeer(net, 'nvp0', { validator: false, catchUp: false }, { random: () => 0 })
    peers.push(fresh)
    await fresh.chatWithPeer('vp0')
    await fresh.chatWithPeer('vp1')
    await waitFor('both connected', () => fresh.peerIDs().length === 2)
    const r = await fresh.catchUp()
    expect(r).toEqual({ ok: true, blockNumber: 300 })
    expect(lies).toBe(1)
    await waitFor('the liar dropped', () => !fresh.peerIDs().includes('vp0'))
    await sameChainAndState(fresh.ledger, source)
  })

  it('detects a peer that sends a tampered delta, rolls it back, drops the peer and completes from another', async () => {
    const net = new MemoryNetwork()
    const source = await chainOf(130)
    let lies = 0
    const liar = lyingPeer(net, 'vp0', await chainOf(130), m => {
      if (m.type !== Message_Type.SYNC_STATE_DELTAS) return m
      const sd = fromBinary(SyncStateDeltasSchema, m.payload)
      if (sd.range?.start !== 110n || sd.deltas.length === 0) return m
      lies++
      const d = StateDelta.unmarshal(sd.deltas[0])
      for (const e of d.entries()) d.set(e.chaincodeID, e.key, utf8('forged'), e.previousValue)
      sd.deltas[0] = d.marshal()
      return { ...m, payload: toBinary(SyncStateDeltasSchema, sd) }
    })
    await liar.start()
    peers.push(await memoryPeer(net, 'vp1', {}, { ledger: source }))
    const behind = await memoryPeer(net, 'nvp0', { validator: false, catchUp: false }, { ledger: await chainOf(100), random: () => 0 })
    peers.push(behind)
    await behind.chatWithPeer('vp0')
    await behind.chatWithPeer('vp1')
    await waitFor('both connected', () => behind.peerIDs().length === 2)
    expect(await behind.catchUp()).toEqual({ ok: true, blockNumber: 130 })
    expect(lies).toBe(1)
    await waitFor('the liar dropped', () => !behind.peerIDs().includes('vp0'))
    expect(behind.peerIDs()).toEqual(['vp1'])
    await sameChainAndState(behind.ledger, source)
  })

  it('detects a tampered snapshot the same way', async () => {
    const net = new MemoryNetwork()
    const source = await chainOf(250)
    const liar = lyingPeer(net, 'vp0', await chainOf(250), m => {
      if (m.type !== Message_Type.SYNC_STATE_SNAPSHOT) return m
      const c = fromBinary(SyncStateSnapshotSchema, m.payload)
      if (c.delta.length === 0) return m
      const d = StateDelta.unmarshal(c.delta)
      d.set('mycc', 'extra', utf8('x'), null)
      c.delta = d.marshal()
      return { ...m, payload: toBinary(SyncStateSnapshotSchema, c) }
    })
    await liar.start()
    peers.push(await memoryPeer(net, 'vp1', {}, { ledger: source }))
    const fresh = await memoryPeer(net, 'nvp0', { validator: false, catchUp: false }, { random: () => 0 })
    peers.push(fresh)
    await fresh.chatWithPeer('vp0')
    await fresh.chatWithPeer('vp1')
    await waitFor('both connected', () => fresh.peerIDs().length === 2)
    expect(await fresh.catchUp()).toEqual({ ok: true, blockNumber: 250 })
    await waitFor('the liar dropped', () => !fresh.peerIDs().includes('vp0'))
    expect(fresh.peerIDs()).toEqual(['vp1'])
    await sameChainAndState(fresh.ledger, source)
  })

  it('takes a snapshot newer than the target when catching up, with the blocks that link it onto the target', async () => {
    const net = new MemoryNetwork()
    const source = await chainOf(250)
    peers.push(await memoryPeer(net, 'vp0', {}, { ledger: source }))
    const fresh = await memoryPeer(net, 'nvp0', { validator: false, catchUp: false })
    peers.push(fresh)
    await fresh.chatWithPeer('vp0')
    await waitFor('connected', () => fresh.peerIDs().length === 1)
    await commitBlocks(source, 5) // the source moves on after its HELLO said 250
    const head = await fresh.ledger.getBlockchainInfo()
    const strict = await fresh.syncToTarget(250, fresh.getRemoteLedger('vp0').head!.hash)
    expect(strict.ok === false && strict.error.message).toMatch(/the snapshot from vp0 is of block 255, beyond the target 250/)
    expect(await fresh.ledger.getBlockchainInfo()).toEqual(head)
    expect(await fresh.catchUp()).toEqual({ ok: true, blockNumber: 255 })
    await sameChainAndState(fresh.ledger, source)
  })

  it('syncToTarget: a target no peer has fails (recoverable); a forked local chain fails for good', async () => {
    const net = new MemoryNetwork()
    const source = await chainOf(20)
    peers.push(await memoryPeer(net, 'vp0', {}, { ledger: source }))
    const forked = await memoryPeer(net, 'vp1', {}, { ledger: await chainOf(5, { tag: 'other' }) })
    peers.push(forked)
    await forked.chatWithPeer('vp0')
    await waitFor('connected', () => forked.peerIDs().includes('vp0'))
    const r1 = await forked.syncToTarget(20, new Uint8Array(64).fill(7), ['vp0'])
    expect(r1.ok).toBe(false)
    expect(r1.ok === false && r1.recoverable).toBe(true)
    expect(r1.ok === false && r1.error.message).toMatch(/block 20 from vp0 has hash .*, the chain needs 0707/)
    expect(forked.peerIDs()).toEqual(['vp0']) // not dropped: it just has another head
    const head = await source.getBlockchainInfo()
    const r2 = await forked.syncToTarget(20, head.currentBlockHash, ['vp0'])
    expect(r2.ok === false && r2.recoverable).toBe(false)
    expect(r2.ok === false && r2.error.message).toMatch(/the target chain does not build on local block 5 .*: this ledger has forked/)
    const r3 = await forked.syncToTarget(2, head.currentBlockHash)
    expect(r3.ok === false && r3.error.message).toMatch(/cannot sync to block 2: the state already belongs to block 5/)
    expect(equalBytes((await forked.ledger.getBlockchainInfo()).currentBlockHash, head.currentBlockHash)).toBe(false)
  })

  it('gives up on a silent peer after the block timeout and says so', async () => {
    const net = new MemoryNetwork()
    // its blocks never arrive as SYNC_BLOCKS (the receiver's FSM refuses what comes instead)
    const silent = lyingPeer(net, 'vp0', await chainOf(30), m => m.type === Message_Type.SYNC_BLOCKS ? { ...m, type: Message_Type.UNDEFINED } : m)
    await silent.start()
    const fresh = await memoryPeer(net, 'nvp0', { validator: false, catchUp: false, stateTransfer: { blockTimeout: 100 } })
    peers.push(fresh)
    await fresh.chatWithPeer('vp0')
    await waitFor('connected', () => fresh.peerIDs().length === 1)
    const r = await fresh.catchUp()
    expect(r?.ok === false && r.error.message).toMatch(/could not fetch blocks 30 down to 1 from any peer: timed out waiting for blocks 30-21 from vp0 \(100 ms\)/)
  })

  it('stops at once when its signal aborts: no further request, a failure not worth retrying, the next transfer not held up', async () => {
    const net = new MemoryNetwork()
    const chain = await chainOf(30)
    // vp0 hears nothing of the requests for blocks (counted here), so a transfer from it waits its block timeout.
    let asked = 0
    const deaf = createPeer(testInit('vp0'), { ledger: chain, dialer: net.dialer('vp0') })
    const unhearing = (s: ChatStream): ChatStream => ({
      remote: s.remote,
      transport: s.transport,
      send: async m => await s.send(m),
      recv: async () => {
        for (;;) {
          const m = await s.recv()
          if (m?.type !== Message_Type.SYNC_GET_BLOCKS) return m
          asked++
        }
      },
      close: async e => await s.close(e)
    })
    net.listen('vp0', { handleChat: async (s, initiated) => await deaf.handleChat(unhearing(s), initiated), processTransaction: async tx => await deaf.processTransaction(tx) })
    peers.push(deaf)
    await deaf.start()
    peers.push(await memoryPeer(net, 'vp1', {}, { ledger: await chainOf(30) }))
    const fresh = await memoryPeer(net, 'vp2', { stateTransfer: { blockTimeout: 60_000 } })
    peers.push(fresh)
    await fresh.chatWithPeer('vp0')
    await fresh.chatWithPeer('vp1')
    await waitFor('connected', () => fresh.peerIDs().length === 2)
    const target = (await chain.getBlockchainInfo()).currentBlockHash

    const ctl = new AbortController()
    const sync = fresh.syncToTarget(30, target, ['vp0'], ctl.signal)
    // Blocks 30 down to 1, in three requests in flight together.
    await waitFor('the first requests', () => asked === 3)
    const t0 = Date.now()
    ctl.abort(new Error('executor stopped'))
    const r = await sync
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(r.ok === false && [r.error.message, r.recoverable]).toEqual(['executor stopped', false])
    expect(fresh.ledger.height).toBe(1)
    // Already aborted: nothing is asked at all.
    const late = await fresh.syncToTarget(30, target, ['vp0'], AbortSignal.abort(new Error('too late')))
    expect(late.ok === false && late.error.message).toBe('too late')
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(asked).toBe(3)
    const next = await fresh.syncToTarget(30, target, ['vp1'])
    expect(next).toEqual({ ok: true, blockNumber: 30 })
  })

  it('asks over a second chat with the peer when the registered one does not answer (a Fabric peer answers only on the chat it registered)', async () => {
    const net = new MemoryNetwork()
    const source = await chainOf(20)
    const a = await memoryPeer(net, 'vp0', {}, { ledger: source })
    const b = await memoryPeer(net, 'vp1', { catchUp: false, stateTransfer: { blockTimeout: 200 } })
    peers.push(a, b)
    // b registers first a chat in which "vp0" said HELLO and then stays mute, as a real Fabric
    // peer does on a chat it refused as a duplicate of its own (its FSM stays `created`).
    const [mine, theirs] = memoryChatPair('vp0-refused', 'vp1')
    void b.handleChat(theirs, false).catch(() => {})
    await mine.send(await a.newHelloMessage())
    await waitFor('mute chat registered', () => b.peerIDs().includes('vp0'))
    const toMute: Message[] = []
    void (async () => { for (let m = await mine.recv(); m !== undefined; m = await mine.recv()) toMute.push(m) })().catch(() => {})
    // vp0's own chat to vp1, which b keeps unlisted.
    await a.chatWithPeer('vp1')
    await waitFor('second chat kept', () => b.chatsWith('vp0').length === 2)
    const head = await source.getBlockchainInfo()
    const r = await b.syncToTarget(20, head.currentBlockHash, ['vp0'])
    expect(r.ok).toBe(true)
    await sameChainAndState(b.ledger, source)
    // Asked first on the registered chat, which stayed mute past the block timeout.
    expect(typeNames(toMute)).toContain('SYNC_GET_BLOCKS')
    expect(b.peerIDs()).toEqual(['vp0'])
    await mine.close()
  })
})
