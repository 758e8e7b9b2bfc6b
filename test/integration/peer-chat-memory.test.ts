import { create, fromBinary } from '@bufbuild/protobuf'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HelloMessageSchema, Message_Type, MessageSchema, PeerEndpoint_Type, PeersMessageSchema, type Message } from '../../src/protos/fabric_pb.ts'
import { timestampAt } from '../../src/ledger/block.ts'
import { createPeer, type Peer } from '../../src/peer/peer.ts'
import { loadDiscoveryList } from '../../src/peer/discovery.ts'
import { disconnectMessage, getPeersMessage } from '../../src/peer/messages.ts'
import { memoryChatPair, MemoryNetwork } from '../../src/transport/memory.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { seededRandom } from '../../src/util/scheduler.ts'
import { commitBlocks, memoryPeer, newLedger, testInit } from './peer-helpers.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'
import { typeNames, watchedDialer, watchedHandlers } from './peer-observers.ts'

let logs: ReturnType<typeof captureLogs>
let peers: Peer[] = []
beforeEach(() => { logs = captureLogs(); peers = [] })
afterEach(async () => {
  await Promise.all(peers.map(async p => await p.stop()))
  logs.restore()
})

async function peer (net: MemoryNetwork, id: string, ...rest: Parameters<typeof memoryPeer> extends [unknown, unknown, ...infer R] ? R : never): Promise<Peer> {
  const p = await memoryPeer(net, id, ...rest)
  peers.push(p)
  return p
}

/** A raw end of a chat with `p`, as a hand-written remote peer. */
function rawChat (p: Peer, name = 'raw'): ChatStream {
  const [mine, theirs] = memoryChatPair(name, 'peer')
  void p.handleChat(theirs, false).catch(() => {})
  return mine
}

async function recvType (s: ChatStream, type: Message_Type): Promise<Message> {
  while (true) {
    const m = await s.recv()
    if (m === undefined) throw new Error(`stream ended before ${Message_Type[type]}`)
    if (m.type === type) return m
  }
}

describe('peer chat over the memory transport', () => {
  it('completes HELLO when A dials B and when B dials A; both register each other with chain info', async () => {
    const net = new MemoryNetwork()
    const ledgerB = await newLedger()
    await commitBlocks(ledgerB, 3)
    const a = await peer(net, 'vp0')
    const b = await peer(net, 'vp1', {}, { ledger: ledgerB })
    await a.chatWithPeer('vp1')
    await waitFor('both registered', () => a.peerIDs().includes('vp1') && b.peerIDs().includes('vp0'))
    expect(a.getRemoteLedger('vp1').remoteInfo?.height).toBe(4n)
    expect(b.getRemoteLedger('vp0').remoteInfo?.height).toBe(1n)
    expect(a.getRemoteLedger('vp1').initiatedStream).toBe(true)
    expect(b.getRemoteLedger('vp0').initiatedStream).toBe(false)
    expect(a.getPeers().peers.map(p => [p.ID?.name, p.address, p.type])).toEqual([['vp1', 'vp1', PeerEndpoint_Type.VALIDATOR]])

    const c = await peer(net, 'nvp0', { validator: false })
    const d = await peer(net, 'vp3')
    await d.chatWithPeer('nvp0')
    await waitFor('reverse handshake', () => c.peerIDs().includes('vp3') && d.peerIDs().includes('nvp0'))
    expect(d.getPeers().peers[0].type).toBe(PeerEndpoint_Type.NON_VALIDATOR)
    expect(d.getValidators()).toEqual([])
    expect(c.getValidators().map(v => v.ID?.name)).toEqual(['vp3'])
  })

  it('keeps one chat, the same on both sides, when two peers dial each other at once', async () => {
    const net = new MemoryNetwork()
    const a = await peer(net, 'vp0')
    const b = await peer(net, 'vp1')
    await Promise.all([a.chatWithPeer('vp1'), b.chatWithPeer('vp0')])
    await waitFor('settled', () => a.peerIDs().length === 1 && b.peerIDs().length === 1)
    await new Promise(resolve => setTimeout(resolve, 50))
    // vp0 < vp1: both keep the stream vp0 opened
    expect(a.getRemoteLedger('vp1').initiatedStream).toBe(true)
    expect(b.getRemoteLedger('vp0').initiatedStream).toBe(false)
    const ping = await a.broadcast(getPeersMessage())
    expect(ping).toEqual([])
  })

  it('refuses a second chat for a peer id that already has one, keeps it open unregistered (as Fabric) and answers requests on it', async () => {
    const net = new MemoryNetwork()
    const a = await peer(net, 'vp0')
    const b = await peer(net, 'vp1')
    await a.chatWithPeer('vp1')
    await waitFor('registered', () => b.peerIDs().includes('vp0'))
    const first = b.getRemoteLedger('vp0')
    // a second stream from "vp0" to vp1, also opened by vp0's side
    const s = rawChat(b, 'vp0-again')
    await s.send(await a.newHelloMessage())
    await recvType(s, Message_Type.DISC_HELLO)
    expect(b.getRemoteLedger('vp0')).toBe(first)
    // The refused chat is not ended (a Fabric remote may have registered it: ending it would make
    // that remote forget this peer); it is not listed, but it answers the remote's requests.
    await s.send(getPeersMessage())
    const peersMsg = await recvType(s, Message_Type.DISC_PEERS)
    expect(fromBinary(PeersMessageSchema, peersMsg.payload).peers.map(p => p.ID?.name)).toEqual(['vp0'])
    expect(b.chatsWith('vp0')).toHaveLength(2)
    expect(b.getRemoteLedger('vp0')).toBe(first)
    expect(b.peerIDs()).toEqual(['vp0'])
    await s.close()
  })

  it('finds a third peer through a second one and dials it (discovery ticks)', async () => {
    const net = new MemoryNetwork()
    const a = await peer(net, 'vp0', { discovery: { period: 50 } })
    const b = await peer(net, 'vp1')
    const c = await peer(net, 'vp2')
    await b.chatWithPeer('vp2')
    await waitFor('b-c', () => c.peerIDs().includes('vp1'))
    await a.chatWithPeer('vp1')
    await waitFor('a learns of c through b', () => a.peerIDs().includes('vp2') && c.peerIDs().includes('vp0'), 5000)
    expect(a.discovery.all().sort()).toEqual(['vp1', 'vp2'])
  })

  it('persists the discovery list and redials it after a restart', async () => {
    const net = new MemoryNetwork()
    const ledger = await newLedger()
    const a = createPeer(testInit('vp0'), { ledger, dialer: net.dialer('vp0'), random: seededRandom(1) })
    const stopListening = net.listen('vp0', a)
    await a.start()
    await peer(net, 'vp1')
    await a.chatWithPeer('vp1')
    await waitFor('registered', () => a.peerIDs().includes('vp1'))
    expect(await loadDiscoveryList(ledger.cols.persist)).toEqual(['vp1'])
    await a.stop()
    stopListening()

    const again = createPeer(testInit('vp0'), { ledger, dialer: net.dialer('vp0'), random: seededRandom(1) })
    net.listen('vp0', again)
    peers.push(again)
    await again.start()
    await waitFor('redialled from the stored list', () => again.peerIDs().includes('vp1'))
  })

  it('dials peer.discovery.rootnode at start; with persist off nothing is stored', async () => {
    const net = new MemoryNetwork()
    await peer(net, 'vp1')
    const ledger = await newLedger()
    const { dialer, dials } = watchedDialer(net.dialer('vp0'))
    const a = await peer(net, 'vp0', { discovery: { rootNodes: ['vp1', 'nowhere'], persist: false } }, { ledger, dialer })
    await waitFor('root node dialled', () => a.peerIDs().includes('vp1'))
    await waitFor('both root nodes tried', () => dials.length === 2 && dials.every(d => d.address === 'vp1' || d.error !== undefined))
    expect(dials.map(d => [d.address, d.error?.message])).toEqual([['vp1', undefined], ['nowhere', 'no peer listening at memory address nowhere']])
    expect(await loadDiscoveryList(ledger.cols.persist)).toEqual([])
  })

  it('redials a known peer that went away (touch service)', async () => {
    const net = new MemoryNetwork()
    const a = await peer(net, 'vp0', { discovery: { touchPeriod: 30 } })
    const b = await peer(net, 'vp1')
    await a.chatWithPeer('vp1')
    await waitFor('registered', () => b.peerIDs().includes('vp0'))
    await b.getRemoteLedger('vp0').stream.close(new Error('cable pulled'))
    await waitFor('gone', () => !a.peerIDs().includes('vp1'))
    await waitFor('back', () => a.peerIDs().includes('vp1') && b.peerIDs().includes('vp0'))
  })

  it('ends a chat whose remote never says HELLO', async () => {
    const net = new MemoryNetwork()
    const b = await peer(net, 'vp1', { helloTimeout: 100 })
    const s = rawChat(b, 'silent')
    await expect(s.recv()).rejects.toThrow(/no DISC_HELLO within 100 ms/)
    // A remote that says HELLO in time keeps its chat past the deadline.
    const a = await peer(net, 'vp0')
    await a.chatWithPeer('vp1')
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(b.peerIDs()).toEqual(['vp0'])
  })

  it('keeps dialling a root node that is not up yet, so start order does not matter', async () => {
    const net = new MemoryNetwork()
    const a = await peer(net, 'vp1', { discovery: { rootNodes: ['vp0'], touchPeriod: 30 } })
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(a.peerIDs()).toEqual([])
    const root = await peer(net, 'vp0')
    await waitFor('the root node reached once it listens', () => a.peerIDs().includes('vp0') && root.peerIDs().includes('vp1'))
  })

  it('admits a peer that was killed and restarted under the same name, without restarting the others', async () => {
    const net = new MemoryNetwork()
    const root = await peer(net, 'vp0', { discovery: { touchPeriod: 30 } })
    const first = createPeer(testInit('vp1', { discovery: { rootNodes: ['vp0'], touchPeriod: 30 } }), { ledger: await newLedger(), dialer: net.dialer('vp1'), random: seededRandom(2) })
    const unlisten = net.listen('vp1', first)
    await first.start()
    await waitFor('vp1 registered', () => root.peerIDs().includes('vp1'))
    // kill -9: no DISC_DISCONNECT, the stream just breaks.
    await root.getRemoteLedger('vp1').stream.close(new Error('process killed'))
    await first.stop()
    unlisten()
    await waitFor('vp1 gone', () => !root.peerIDs().includes('vp1'))
    const again = await peer(net, 'vp1', { discovery: { rootNodes: ['vp0'], touchPeriod: 30 } })
    await waitFor('vp1 admitted again', () => root.peerIDs().includes('vp1') && again.peerIDs().includes('vp0'))
  })

  it('refuses messages the FSM cannot take in its state, answers none of them, and keeps serving the stream', async () => {
    const net = new MemoryNetwork()
    const watched = watchedHandlers()
    const b = await peer(net, 'vp1', {}, { handlerFactory: watched.factory })
    const a = await peer(net, 'vp0')
    const s = rawChat(b, 'vp0')
    await s.send(create(MessageSchema, { type: Message_Type.SYNC_GET_BLOCKS, payload: new Uint8Array(6) }))
    await s.send(getPeersMessage())
    await s.send(await a.newHelloMessage())
    const hello = await s.recv()
    expect(hello?.type).toBe(Message_Type.DISC_HELLO)
    expect(fromBinary(HelloMessageSchema, hello!.payload).peerEndpoint?.ID?.name).toBe('vp1')
    await s.send(await a.newHelloMessage())
    await s.send(create(MessageSchema, { type: Message_Type.CHAIN_TRANSACTION, payload: new Uint8Array(3) }))
    await s.send(create(MessageSchema, { type: Message_Type.CONSENSUS, payload: new Uint8Array(2) }))
    await s.send(create(MessageSchema, { type: 99 as Message_Type }))
    await s.send(getPeersMessage())
    // The next thing said on the chat answers the last message: none before it was answered.
    const peersMsg = await s.recv()
    expect(peersMsg?.type).toBe(Message_Type.DISC_PEERS)
    expect(fromBinary(PeersMessageSchema, peersMsg!.payload).peers.map(p => p.ID?.name)).toEqual(['vp0'])
    expect(watched.handled.map(h => [typeNames([h])[0], h.error === undefined ? 'taken' : 'refused'])).toEqual([
      ['SYNC_GET_BLOCKS', 'refused'], ['DISC_GET_PEERS', 'refused'], ['DISC_HELLO', 'taken'], ['DISC_HELLO', 'refused'],
      ['CHAIN_TRANSACTION', 'refused'], ['CONSENSUS', 'refused'], ['99', 'refused'], ['DISC_GET_PEERS', 'taken']
    ])
    expect(b.peerIDs()).toEqual(['vp0'])
  })

  it('a HELLO that does not decode is an FSM error; the chat stays in created', async () => {
    const net = new MemoryNetwork()
    const watched = watchedHandlers()
    const b = await peer(net, 'vp1', {}, { handlerFactory: watched.factory })
    const s = rawChat(b)
    await s.send(create(MessageSchema, { type: Message_Type.DISC_HELLO, payload: Uint8Array.of(0x0a, 0x05, 0x01) }))
    await s.send(await b.newHelloMessage()) // its own endpoint
    // Still in created, the FSM takes the second HELLO and answers it; then b refuses a peer with its own id and ends the chat.
    expect((await s.recv())?.type).toBe(Message_Type.DISC_HELLO)
    await expect(s.recv()).rejects.toThrow(/own id vp1/)
    expect(watched.refused().map(h => typeNames([h])[0])).toEqual(['DISC_HELLO', 'DISC_HELLO'])
    expect(b.peerIDs()).toEqual([])
  })

  it('DISC_DISCONNECT ends the chat and forgets the address; stop() says it to everyone', async () => {
    const net = new MemoryNetwork()
    const a = await peer(net, 'vp0')
    const b = await peer(net, 'vp1')
    const c = await peer(net, 'vp2')
    await a.chatWithPeer('vp1')
    await a.chatWithPeer('vp2')
    await waitFor('registered', () => b.peerIDs().includes('vp0') && c.peerIDs().includes('vp0'))
    expect(b.discovery.all()).toEqual(['vp0'])
    await a.getRemoteLedger('vp1').sendMessage(disconnectMessage(timestampAt(0)))
    await waitFor('b dropped a', () => !b.peerIDs().includes('vp0') && !a.peerIDs().includes('vp1'))
    expect(b.discovery.all()).toEqual([])
    await a.stop()
    await waitFor('c saw a leave', () => c.peerIDs().length === 0)
    expect(c.discovery.all()).toEqual([])
  })

  it('ends a chat whose frame exceeds the receiver\'s limit with the reason; the peer keeps serving others', async () => {
    const net = new MemoryNetwork()
    const b = await peer(net, 'vp1')
    const a = await peer(net, 'vp0')
    const [mine, theirs] = memoryChatPair('big', 'vp1', { maxMessageSize: 1 << 20 }, { maxMessageSize: 1024 })
    const ended = b.handleChat(theirs, false)
    await mine.send(create(MessageSchema, { type: Message_Type.DISC_GET_PEERS, payload: new Uint8Array(4096) }))
    await expect(ended).rejects.toThrow(/Error during Chat, stopping handler: frame of 4\d{3} bytes from big exceeds the maximum message size of 1024 bytes/)
    expect(await mine.recv().catch((e: Error) => e.message)).toMatch(/aborted by vp1/)
    await a.chatWithPeer('vp1')
    await waitFor('still serving', () => b.peerIDs().includes('vp0'))
  })
})
