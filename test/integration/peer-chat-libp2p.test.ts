// Peers over real libp2p on 127.0.0.1: TCP and WebSockets, noise, yamux; a relayed (limited)
// connection; raw frames a broken or hostile peer could send.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createNodeLibp2p, type NodeLibp2p } from '../../node/libp2p/create-node.ts'
import { fromUtf8, toHex, utf8 } from '../../src/crypto/bytes.ts'
import type { Ledger } from '../../src/ledger/ledger.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import { MessageSchema, Message_Type, ResponseSchema, SyncStateSnapshotSchema, Response_StatusCode, TransactionSchema, Transaction_Type, type Message, type Transaction } from '../../src/protos/fabric_pb.ts'
import { newPeerHandler } from '../../src/peer/handler.ts'
import { createPeer, type Engine, type Peer } from '../../src/peer/peer.ts'
import type { PeerInit } from '../../src/peer/peer-config.ts'
import { keySigner } from '../../src/peer/security.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { varint } from '../../src/transport/frame.ts'
import { CHAT_PROTOCOL, libp2pChat, type Libp2pChat } from '../../src/transport/libp2p-chat.ts'
import { PROCESS_TX_PROTOCOL } from '../../src/transport/libp2p-process-tx.ts'
import { seededRandom } from '../../src/util/scheduler.ts'
import { commitBlocks, newLedger, testInit } from './peer-helpers.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'
import { watchedServer } from './peer-observers.ts'

interface Running { peer: Peer, node: NodeLibp2p, chat: Libp2pChat, ws: string, tcp: string }

let logs: ReturnType<typeof captureLogs>
let running: Running[] = []
beforeEach(() => { logs = captureLogs(); running = [] })
afterEach(async () => {
  for (const r of running) await r.peer.stop()
  for (const r of running) { await r.chat.stop(); await r.node.stop() }
  logs.restore()
})

function addr (node: NodeLibp2p, kind: 'ws' | 'tcp'): string {
  const a = node.getMultiaddrs().map(m => m.toString()).find(s => kind === 'ws' ? s.includes('/ws/') : !s.includes('/ws/') && !s.includes('p2p-circuit'))
  if (a === undefined) throw new Error(`no ${kind} address`)
  return a
}

interface PeerOpts {
  ledger?: Ledger
  key?: PrivateKey
  listen?: string[]
  maxMessageSize?: number
  random?: () => number
  engine?: Engine
  bootstrap?: string[]
  /** What the transport serves instead of the peer itself (a liar, in tests). */
  wrap?: (p: Peer) => Parameters<Libp2pChat['start']>[0]
}

async function libp2pPeer (id: string, over: Partial<PeerInit> = {}, opts: PeerOpts = {}): Promise<Running> {
  const key = opts.key ?? await generateKeyPair('Ed25519')
  const node = await createNodeLibp2p({ privateKey: key, listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/tcp/0'], bootstrap: opts.bootstrap })
  const chat = libp2pChat({ maxMessageSize: opts.maxMessageSize, chatWithDiscoveredPeers: opts.bootstrap !== undefined })({ node })
  const ws = addr(node, 'ws')
  const peer = createPeer(testInit(id, { address: ws, ...over }), {
    ledger: opts.ledger ?? await newLedger(), dialer: chat, random: opts.random ?? seededRandom(3), signer: keySigner(key)
  })
  if (opts.engine !== undefined) peer.useEngine(opts.engine)
  await chat.start(opts.wrap?.(peer) ?? peer)
  await peer.start()
  const r = { peer, node, chat, ws, tcp: addr(node, 'tcp') }
  running.push(r)
  return r
}

/** Opens a raw chat stream to `to` and writes `bytes` as they are. */
async function rawWrite (from: NodeLibp2p, to: string, bytes: Uint8Array): Promise<void> {
  const stream = await from.dialProtocol(multiaddr(to), CHAT_PROTOCOL)
  stream.send(bytes)
}

describe('peer chat over libp2p on 127.0.0.1', () => {
  it('handshakes over WebSockets and over TCP, both ways, and finds a third peer through a second', async () => {
    const a = await libp2pPeer('vp0', { discovery: { period: 100 } })
    const b = await libp2pPeer('vp1')
    const c = await libp2pPeer('vp2')
    await b.peer.chatWithPeer(c.tcp)
    await waitFor('b-c over tcp', () => c.peer.peerIDs().includes('vp1') && b.peer.peerIDs().includes('vp2'))
    expect(c.peer.getRemoteLedger('vp1').stream.transport).toBe('libp2p/tcp')
    await a.peer.chatWithPeer(b.ws)
    await waitFor('a-b over ws', () => b.peer.peerIDs().includes('vp0') && a.peer.peerIDs().includes('vp1'))
    expect(a.peer.getRemoteLedger('vp1').stream.transport).toBe('libp2p/ws')
    expect(a.peer.getRemoteLedger('vp1').stream.remote).toBe(b.node.peerId.toString())
    await waitFor('a finds c through b', () => a.peer.peerIDs().includes('vp2') && c.peer.peerIDs().includes('vp0'))
    expect(a.peer.discovery.all().sort()).toEqual([b.ws, c.ws].sort())
  })

  it('a fresh peer syncs a 1,000-block chain over TCP, and from a lying peer falls over to an honest one over WebSockets', async () => {
    const honest = await newLedger()
    await commitBlocks(honest, 1000)
    const copy = await newLedger()
    await commitBlocks(copy, 1000)
    const src = await libp2pPeer('vp0', {}, { ledger: honest })
    let lies = 0
    const liar = await libp2pPeer('vp1', {}, {
      ledger: copy,
      wrap: p => ({
        handleChat: async (s, initiated) => await p.handleChat({
          remote: s.remote,
          transport: s.transport,
          recv: async () => await s.recv(),
          close: async e => await s.close(e),
          send: async (m: Message) => {
            if (m.type === Message_Type.SYNC_STATE_SNAPSHOT) {
              const chunk = fromBinary(SyncStateSnapshotSchema, m.payload)
              if (chunk.delta.length > 0) {
                lies++
                const d = StateDelta.unmarshal(chunk.delta)
                d.set('mycc', 'k1', utf8('forged'), null)
                m = { ...m, payload: toBinary(SyncStateSnapshotSchema, { ...chunk, delta: d.marshal() }) }
              }
            }
            await s.send(m)
          }
        }, initiated),
        processTransaction: async tx => await p.processTransaction(tx)
      })
    })
    const fresh = await libp2pPeer('nvp0', { validator: false, catchUp: false }, { random: () => 0 })
    await fresh.peer.chatWithPeer(liar.tcp)
    await fresh.peer.chatWithPeer(src.ws)
    await waitFor('connected', () => fresh.peer.peerIDs().length === 2)
    const t0 = Date.now()
    expect(await fresh.peer.catchUp()).toEqual({ ok: true, blockNumber: 1000 })
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect(lies).toBeGreaterThan(0)
    await waitFor('the liar dropped', () => !fresh.peer.peerIDs().includes('vp1'))
    expect(fresh.peer.peerIDs()).toEqual(['vp0'])
    expect(toHex((await fresh.peer.ledger.getBlockchainInfo()).currentBlockHash)).toBe(toHex((await honest.getBlockchainInfo()).currentBlockHash))
    expect(toHex((await fresh.peer.ledger.getTempStateHash())!)).toBe(toHex((await honest.getTempStateHash())!))
  })

  it('chats with a libp2p bootstrap peer once identify shows it speaks Chat', async () => {
    const b = await libp2pPeer('vp1')
    const a = await libp2pPeer('nvp0', { validator: false }, { bootstrap: [b.tcp] })
    await waitFor('chat through bootstrap', () => a.peer.peerIDs().includes('vp1') && b.peer.peerIDs().includes('nvp0'), 15_000)
    expect(a.peer.getRemoteLedger('vp1').initiatedStream).toBe(true)
  })

  it('a peer 30 blocks behind catches up with state deltas over TCP and then follows SYNC_BLOCK_ADDED', async () => {
    const ahead = await newLedger()
    await commitBlocks(ahead, 130)
    const behind = await newLedger()
    await commitBlocks(behind, 100)
    const v = await libp2pPeer('vp0', {}, { ledger: ahead })
    const n = await libp2pPeer('nvp0', { validator: false }, { ledger: behind })
    await n.peer.chatWithPeer(v.tcp)
    await waitFor('caught up', () => behind.stateBlockNumber === 130)
    // Played forward delta by delta, not replaced by a snapshot: it holds the delta of every block it caught up on.
    for (let n = 101; n <= 130; n++) expect((await behind.getStateDelta(n))?.marshal(), `block ${n}`).toEqual((await ahead.getStateDelta(n))!.marshal())
    await commitBlocks(ahead, 3, { tag: 'live' })
    await waitFor('followed', () => behind.stateBlockNumber === 133)
    expect(toHex((await behind.getBlockchainInfo()).currentBlockHash)).toBe(toHex((await ahead.getBlockchainInfo()).currentBlockHash))
    expect((await behind.getStateDelta(132))!.marshal()).toEqual((await ahead.getStateDelta(132))!.marshal())
  })

  it('holds a fast sender back while the reader is slow, instead of buffering without bound', async () => {
    const nodes = await Promise.all([1, 2].map(async () => await createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })))
    try {
      const [sender, receiver] = nodes.map(node => libp2pChat({ maxQueuedMessages: 16, maxQueuedBytes: 256 * 1024 })({ node }))
      const accepted: ChatStream[] = []
      await receiver.start({ handleChat: async s => { accepted.push(s) }, processTransaction: async () => { throw new Error('unused') } })
      const out = await sender.dialChat(nodes[1].getMultiaddrs()[0].toString())
      const total = 1000
      let sent = 0
      const sending = (async () => {
        for (let i = 0; i < total; i++) {
          await out.send(create(MessageSchema, { type: Message_Type.SYNC_BLOCKS, payload: new Uint8Array(50_000).fill(i % 256) }))
          sent++
        }
      })()
      await waitFor('the chat is accepted', () => accepted.length === 1)
      await new Promise(resolve => setTimeout(resolve, 500))
      // 50 MB offered; what went out is the reader's queue plus at most a yamux window (16 MiB)
      expect(sent).toBeGreaterThan(16)
      expect(sent).toBeLessThan(400)
      const got: number[] = []
      while (got.length < total) got.push((await accepted[0].recv())!.payload[0])
      await sending
      expect(got).toEqual(Array.from({ length: total }, (_, i) => i % 256))
      await out.close()
      expect(await accepted[0].recv()).toBeUndefined()
    } finally {
      await Promise.all(nodes.map(async n => await n.stop()))
    }
  })

  it('closes a chat that sends an oversize or undecodable frame, saying why, and keeps serving others', async () => {
    let chats!: ReturnType<typeof watchedServer>
    const b = await libp2pPeer('vp1', {}, { maxMessageSize: 64 * 1024, wrap: p => (chats = watchedServer(p)).server })
    const probe = await createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      // Each chat's loop ends with the reason (the error handleChat rejects with, Fabric's Chat error).
      const endsWith = async (what: string, bytes: Uint8Array, reason: RegExp): Promise<void> => {
        const before = chats.ended.length
        await rawWrite(probe, b.tcp, bytes)
        const end = await waitFor(what, () => chats.ended[before])
        expect(end.error?.message).toMatch(reason)
      }
      await endsWith('the oversize frame refused', varint(1 << 20), /frame of 1048576 bytes from \S+ exceeds the maximum message size of 65536 bytes/)
      await endsWith('the garbage refused', Uint8Array.of(4, 0xff, 0xff, 0xff, 0xff), /^Error during Chat, stopping handler: undecodable Message frame \(4 bytes\) from /)
      await endsWith('the bad prefix refused', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01), /bad frame length prefix from \S+: more than 5 bytes/)
      expect(b.peer.peerIDs()).toEqual([])
      const a = await libp2pPeer('vp0')
      await a.peer.chatWithPeer(b.ws)
      await waitFor('still serving', () => b.peer.peerIDs().includes('vp0') && a.peer.peerIDs().includes('vp1'))
      await expect(a.peer.getRemoteLedger('vp1').sendMessage(create(MessageSchema, { type: Message_Type.DISC_GET_PEERS, payload: new Uint8Array(70_000) })))
        .resolves.toBeUndefined() // a's own limit is the 16 MiB default: it sends, b refuses it
      await waitFor('a chat over the limit ends', () => !b.peer.peerIDs().includes('vp0'))
    } finally {
      await probe.stop()
    }
  })

  it('refuses to send a message over the sender\'s limit, with a clear error', async () => {
    const a = await libp2pPeer('vp0', {}, { maxMessageSize: 4096 })
    const b = await libp2pPeer('vp1')
    await a.peer.chatWithPeer(b.ws)
    await waitFor('connected', () => a.peer.peerIDs().includes('vp1'))
    const big = create(MessageSchema, { type: Message_Type.DISC_GET_PEERS, payload: new Uint8Array(5000) })
    await expect(a.peer.unicast(big, 'vp1')).rejects.toThrow(/Error unicasting msg \(DISC_GET_PEERS\) to PeerEndpoint \(vp1\): Error Sending message through ChatStream: message of 500\d bytes to \S+ exceeds the maximum message size of 4096 bytes/)
    expect(a.peer.peerIDs()).toEqual(['vp1']) // nothing was sent, the chat goes on
  })

  it('a non-validator hands transactions to a validator over /weft/process-tx/0.6.1', async () => {
    const got: Transaction[] = []
    // a stand-in consensus engine, attached the way consensus attaches itself
    const engine: Engine = {
      getHandlerFactory: () => newPeerHandler,
      processTransaction: async tx => {
        got.push(tx)
        return create(ResponseSchema, { status: Response_StatusCode.SUCCESS, msg: utf8(tx.txid) })
      }
    }
    const v = await libp2pPeer('vp0', {}, { engine })
    const nvp = await libp2pPeer('nvp0', { validator: false })
    await nvp.peer.chatWithPeer(v.ws)
    await waitFor('connected', () => nvp.peer.getValidators().length === 1)
    const tx = create(TransactionSchema, { type: Transaction_Type.CHAINCODE_INVOKE, txid: 'tx-1', payload: utf8('invoke') })
    const res = await nvp.peer.executeTransaction(tx)
    expect(res.status).toBe(Response_StatusCode.SUCCESS)
    expect(fromUtf8(res.msg)).toBe('tx-1')
    expect(got.map(t => t.txid)).toEqual(['tx-1'])

    const stream = await nvp.node.dialProtocol(multiaddr(v.ws), PROCESS_TX_PROTOCOL)
    stream.send(Uint8Array.of(3, 0xff, 0xff, 0xff))
    await stream.close() // the server answers until the client closes its side
    const reply: Uint8Array[] = []
    for await (const chunk of stream) reply.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
    const bad = fromBinary(ResponseSchema, Uint8Array.from(reply.flatMap(c => [...c])).subarray(1))
    expect(bad.status).toBe(Response_StatusCode.FAILURE)
    expect(fromUtf8(bad.msg)).toMatch(/cannot process the transaction \(3 bytes\)/)
  })

  it('runs Chat over a relayed (limited) connection', async () => {
    const relay = await libp2pPeer('relay')
    const b = await libp2pPeer('vp1', {}, { listen: ['/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/tcp/0', '/p2p-circuit'] })
    await b.node.dial(multiaddr(relay.tcp))
    await waitFor('reservation', () => b.node.getMultiaddrs().some(m => m.toString().includes('/p2p-circuit')), 10_000)
    const circuit = b.node.getMultiaddrs().map(m => m.toString()).find(s => s.includes('/p2p-circuit'))!
    const a = await libp2pPeer('vp0')
    await a.peer.chatWithPeer(circuit)
    await waitFor('chat over the relay', () => b.peer.peerIDs().includes('vp0') && a.peer.peerIDs().includes('vp1'))
    const h = a.peer.getRemoteLedger('vp1')
    expect(h.stream.transport).toBe('libp2p/relay')
    expect(a.node.getConnections(b.node.peerId).some(c => c.limits !== undefined)).toBe(true)
    expect(await a.peer.broadcast(create(MessageSchema, { type: Message_Type.DISC_GET_PEERS }))).toEqual([])
  })
})
