// Peers chatting over real gRPC (protos.Peer/Chat) on 127.0.0.1, as Fabric 0.6.1 peers do: HELLO,
// discovery, sync, ProcessTransaction; a raw client sending what a Fabric peer sends; hostile
// frames; flow control; and the dialer that routes host:port to gRPC and multiaddrs to libp2p.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { readFileSync } from 'node:fs'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rawClient } from './raw-client.ts'
import { GrpcChatDialer } from '../../node/grpc/chat-dialer.ts'
import { grpcChatHandler, type GrpcChatOptions } from '../../node/grpc/chat-stream.ts'
import { addPeerService } from '../../node/grpc/peer-service.ts'
import { GrpcTransport } from '../../node/grpc/grpc-transport.ts'
import { startGrpcServer, type GrpcServer } from '../../node/grpc/server.ts'
import { createNodeLibp2p, type NodeLibp2p } from '../../node/libp2p/create-node.ts'
import { fromHex, fromUtf8, toHex, utf8 } from '../../src/crypto/bytes.ts'
import type { Ledger } from '../../src/ledger/ledger.ts'
import {
  HelloMessageSchema, MessageSchema, Message_Type, PeerEndpoint_Type, PeersMessageSchema, ResponseSchema, Response_StatusCode,
  TransactionSchema, Transaction_Type, type Message, type Transaction
} from '../../src/protos/fabric_pb.ts'
import { newPeerHandler } from '../../src/peer/handler.ts'
import { createPeer, type Engine, type Peer } from '../../src/peer/peer.ts'
import type { PeerInit } from '../../src/peer/peer-config.ts'
import type { ChatDialer } from '../../src/transport/chat-server.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { libp2pChat, type Libp2pChat } from '../../src/transport/libp2p-chat.ts'
import { seededRandom } from '../../src/util/scheduler.ts'
import { transportDialer, transportFor } from '../../src/transport/peer-transport.ts'
import { commitBlocks, newLedger, testInit } from '../integration/peer-helpers.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'
import { SERVER_NAME, serverTls, tlsFiles } from '../helpers/tls-fixtures.ts'
import { watchedDialer, watchedServer, type ChatEnd, type Dial } from '../integration/peer-observers.ts'

interface GrpcPeer {
  peer: Peer
  server: GrpcServer
  address: string
  /** How each chat the server took ended. */
  chats: ChatEnd[]
  /** Each dial the peer made, and how it went. */
  dials: Dial[]
}

let logs: ReturnType<typeof captureLogs>
let cleanup: Array<() => Promise<void>> = []
beforeEach(() => { logs = captureLogs(); cleanup = [] })
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  logs.restore()
})

interface PeerOpts {
  ledger?: Ledger
  chat?: GrpcChatOptions
  /** grpc-js's own limit on the server (startGrpcServer maxMessageSize). */
  transportLimit?: number
  engine?: Engine
  dialer?: ChatDialer
}

/** A peer serving Peer.Chat and ProcessTransaction on 127.0.0.1:<free port>, at that address. */
async function grpcPeer (id: string, over: Partial<PeerInit> = {}, opts: PeerOpts = {}): Promise<GrpcPeer> {
  // The peer's address is the port the server gets, so the server reaches the peer through this binding.
  let peer!: Peer
  const chats = watchedServer({ handleChat: async (c, i) => await peer.handleChat(c, i), processTransaction: async tx => await peer.processTransaction(tx) })
  const server = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.listenAddress', maxMessageSize: opts.transportLimit }, s => {
    addPeerService(s, chats.server, grpcChatHandler(chats.server, opts.chat))
  })
  const { dialer, dials } = watchedDialer(opts.dialer ?? new GrpcChatDialer(opts.chat))
  peer = createPeer(testInit(id, { address: server.address, ...over }), { ledger: opts.ledger ?? await newLedger(), dialer, random: seededRandom(5) })
  if (opts.engine !== undefined) peer.useEngine(opts.engine)
  await peer.start()
  cleanup.push(async () => { await peer.stop(); await server.close(200) })
  return { peer, server, address: server.address, chats: chats.ended, dials }
}

type RawChat = ClientDuplexStream<Buffer, Buffer>

/** A client of our own that speaks Peer.Chat in raw protobuf bytes, as any Fabric 0.6.1 peer would. */
function rawChat (address: string): { call: RawChat, got: Message[], ended: () => ServiceError | 'ok' | undefined } {
  const client = rawClient(address, '/protos.Peer/Chat', true)
  cleanup.push(async () => { client.close() })
  const call = (client as unknown as { call: () => RawChat }).call()
  const got: Message[] = []
  let end: ServiceError | 'ok' | undefined
  call.on('data', (b: Buffer) => { got.push(fromBinary(MessageSchema, b)) })
  call.on('error', (e: ServiceError) => { end = e })
  call.on('status', (s: { code: number }) => { if (s.code === status.OK) end = 'ok' })
  return { call, got, ended: () => end }
}

const messageVectors = JSON.parse(readFileSync(new URL('../vectors/messages.json', import.meta.url), 'utf8')) as { cases: Array<{ name: string, proto_hex: string }> }
const fabricHello = messageVectors.cases.find(c => c.name === 'message_disc_hello')!

describe('peer chat over gRPC on 127.0.0.1', () => {
  it('says HELLO both ways and finds a third peer through a second', async () => {
    const a = await grpcPeer('vp0', { discovery: { period: 100 } })
    const b = await grpcPeer('vp1')
    const c = await grpcPeer('vp2')
    await b.peer.chatWithPeer(c.address)
    await waitFor('b-c', () => c.peer.peerIDs().includes('vp1') && b.peer.peerIDs().includes('vp2'))
    await a.peer.chatWithPeer(b.address)
    await waitFor('a-b', () => b.peer.peerIDs().includes('vp0') && a.peer.peerIDs().includes('vp1'))
    const toB = a.peer.getRemoteLedger('vp1')
    expect([toB.stream.transport, toB.stream.remote, toB.initiatedStream]).toEqual(['grpc', b.address, true])
    expect(toB.to()?.address).toBe(b.address)
    // On the accepting side the remote is the caller's own socket address.
    expect(b.peer.getRemoteLedger('vp0').stream.remote).toMatch(/^127\.0\.0\.1:\d+$/)
    await waitFor('a finds c through b', () => a.peer.peerIDs().includes('vp2') && c.peer.peerIDs().includes('vp0'))
    expect(a.peer.discovery.all().sort()).toEqual([b.address, c.address].sort())
    expect(a.peer.getPeers().peers.map(p => [p.ID?.name, p.address, p.type]).sort()).toEqual([
      ['vp1', b.address, PeerEndpoint_Type.VALIDATOR], ['vp2', c.address, PeerEndpoint_Type.VALIDATOR]
    ])
  })

  it('a fresh non-validator syncs a 300-block chain and then follows SYNC_BLOCK_ADDED', async () => {
    const ahead = await newLedger()
    await commitBlocks(ahead, 300)
    const v = await grpcPeer('vp0', {}, { ledger: ahead })
    const fresh = await newLedger()
    const n = await grpcPeer('nvp0', { validator: false }, { ledger: fresh })
    await n.peer.chatWithPeer(v.address)
    await waitFor('caught up', () => fresh.stateBlockNumber === 300, 20_000)
    await commitBlocks(ahead, 3, { tag: 'live' })
    await waitFor('followed', () => fresh.stateBlockNumber === 303)
    expect(toHex((await fresh.getBlockchainInfo()).currentBlockHash)).toBe(toHex((await ahead.getBlockchainInfo()).currentBlockHash))
    expect(toHex((await fresh.getTempStateHash())!)).toBe(toHex((await ahead.getTempStateHash())!))
  })

  it('answers a Fabric peer\'s DISC_HELLO, byte for byte as Fabric sends it, with its own HELLO', async () => {
    const b = await grpcPeer('vp1')
    await commitBlocks(b.peer.ledger, 2)
    const raw = rawChat(b.address)
    raw.call.write(Buffer.from(fromHex(fabricHello.proto_hex)))
    await waitFor('HELLO back', () => raw.got.length > 0)
    const hello = raw.got[0]
    expect(hello.type).toBe(Message_Type.DISC_HELLO)
    const body = fromBinary(HelloMessageSchema, hello.payload)
    expect(body.peerEndpoint).toMatchObject({ ID: { name: 'vp1' }, address: b.address, type: PeerEndpoint_Type.VALIDATOR })
    expect(body.blockchainInfo?.height).toBe(3n)
    const fabric = b.peer.getRemoteLedger('vp0')
    expect([fabric.to()?.address, fabric.remoteInfo?.height]).toEqual(['127.0.0.1:7051', 737n])

    raw.call.write(Buffer.from(toBinary(MessageSchema, create(MessageSchema, { type: Message_Type.DISC_GET_PEERS }))))
    await waitFor('DISC_PEERS', () => raw.got.some(m => m.type === Message_Type.DISC_PEERS))
    const peers = fromBinary(PeersMessageSchema, raw.got.find(m => m.type === Message_Type.DISC_PEERS)!.payload)
    expect(peers.peers.map(p => p.ID?.name)).toEqual(['vp0'])

    // CloseSend, as Fabric's chatWithPeer ends: the peer ends the call with OK and forgets vp0.
    raw.call.end()
    await waitFor('call ended', () => raw.ended() !== undefined)
    expect(raw.ended()).toBe('ok')
    await waitFor('deregistered', () => b.peer.peerIDs().length === 0)
  })

  it('ends a call that sends an oversize or undecodable message, saying why, and serves on', async () => {
    const b = await grpcPeer('vp1', {}, { chat: { maxMessageSize: 64 * 1024 }, transportLimit: 128 * 1024 })

    // The caller's status carries the reason the chat's loop ended with.
    const big = rawChat(b.address)
    big.call.write(Buffer.from(toBinary(MessageSchema, create(MessageSchema, { type: Message_Type.DISC_HELLO, payload: new Uint8Array(70_000) }))))
    await waitFor('oversize refused', () => big.ended() !== undefined)
    expect(big.ended()).toMatchObject({ code: status.UNKNOWN, details: expect.stringMatching(/^Error during Chat, stopping handler: frame of 7000\d bytes from 127\.0\.0\.1:\d+ exceeds the maximum message size of 65536 bytes$/) })
    expect(b.chats.map(c => c.error?.message)).toEqual([(big.ended() as ServiceError).details])

    const garbage = rawChat(b.address)
    garbage.call.write(Buffer.from([0x0a, 0x05, 0x01]))
    await waitFor('garbage refused', () => garbage.ended() !== undefined)
    expect(garbage.ended()).toMatchObject({ code: status.UNKNOWN, details: expect.stringMatching(/undecodable Message frame \(3 bytes\) from 127\.0\.0\.1:\d+/) })
    expect(b.chats[1].error?.message).toBe((garbage.ended() as ServiceError).details)

    // Past the server's own limit grpc-js refuses the message itself; the chat only learns the call was cancelled.
    const huge = rawChat(b.address)
    huge.call.write(Buffer.alloc(200_000))
    await waitFor('huge refused', () => huge.ended() !== undefined)
    expect(huge.ended()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/larger than max \(200000 vs/) })
    const cancelled = await waitFor('the cancelled chat to end', () => b.chats[2])
    expect(cancelled.error?.message).toMatch(/cancel/)
    expect(b.peer.peerIDs()).toEqual([])

    const a = await grpcPeer('vp0')
    await a.peer.chatWithPeer(b.address)
    await waitFor('still serving', () => b.peer.peerIDs().includes('vp0') && a.peer.peerIDs().includes('vp1'))
    // a's own limit is the 16 MiB default: it sends, b refuses, and a learns why from b's status.
    await a.peer.getRemoteLedger('vp1').sendMessage(create(MessageSchema, { type: Message_Type.DISC_GET_PEERS, payload: new Uint8Array(70_000) }))
    await waitFor('the chat over the limit ends', () => !b.peer.peerIDs().includes('vp0') && !a.peer.peerIDs().includes('vp1'))
    expect(a.dials.map(d => d.ended?.message)).toEqual([expect.stringMatching(/^Chat call with 127\.0\.0\.1:\d+ failed: Error during Chat, stopping handler: frame of 7000\d bytes/)])
  })

  it('chats over TLS, checking the peer\'s certificate under peer.tls.serverhostoverride', async () => {
    let b!: Peer
    const server = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.listenAddress', tls: serverTls() }, s => {
      addPeerService(s, { processTransaction: async tx => await b.processTransaction(tx) }, grpcChatHandler({ handleChat: async (c, i) => await b.handleChat(c, i) }))
    })
    b = createPeer(testInit('vp1', { address: server.address }), { ledger: await newLedger(), dialer: new GrpcChatDialer(), random: seededRandom(1) })
    await b.start()
    cleanup.push(async () => { await b.stop(); await server.close(200) })
    const trusting = await grpcPeer('vp0', {}, { dialer: new GrpcChatDialer({ tls: { rootCertFile: tlsFiles.ca, serverNameOverride: SERVER_NAME } }) })
    await trusting.peer.chatWithPeer(server.address)
    await waitFor('TLS chat', () => b.peerIDs().includes('vp0') && trusting.peer.peerIDs().includes('vp1'))
    // Without the CA as root the handshake fails, and so does the dial, saying why.
    const doubting = await grpcPeer('vp2', {}, { dialer: new GrpcChatDialer({ tls: { serverNameOverride: SERVER_NAME }, connectTimeout: 2000 }) })
    await doubting.peer.chatWithPeer(server.address)
    expect(doubting.dials.map(d => [d.address, d.error?.message])).toEqual([[server.address, expect.stringMatching(/^cannot connect to 127\.0\.0\.1:\d+: TLS handshake failed, the peer's certificate is not trusted .*: unable to verify the first certificate$/)]])
    expect(doubting.peer.peerIDs()).toEqual([])
    expect(b.peerIDs()).toEqual(['vp0'])
  })

  it('refuses to send a message over the sender\'s limit, with a clear error, and the chat goes on', async () => {
    const a = await grpcPeer('vp0', {}, { chat: { maxMessageSize: 4096 } })
    const b = await grpcPeer('vp1')
    await a.peer.chatWithPeer(b.address)
    await waitFor('connected', () => a.peer.peerIDs().includes('vp1') && b.peer.peerIDs().includes('vp0'))
    const big = create(MessageSchema, { type: Message_Type.DISC_GET_PEERS, payload: new Uint8Array(5000) })
    await expect(a.peer.unicast(big, 'vp1')).rejects.toThrow(/Error unicasting msg \(DISC_GET_PEERS\) to PeerEndpoint \(vp1\): Error Sending message through ChatStream: message of 500\d bytes to 127\.0\.0\.1:\d+ exceeds the maximum message size of 4096 bytes/)
    expect(await a.peer.broadcast(create(MessageSchema, { type: Message_Type.DISC_GET_PEERS }))).toEqual([])
    expect(a.peer.peerIDs()).toEqual(['vp1'])
  })

  it('holds a fast sender back while the reader is slow, instead of buffering without bound', async () => {
    const accepted: ChatStream[] = []
    const server = await startGrpcServer({ address: '127.0.0.1:0', key: 'test' }, s => {
      addPeerService(s, { processTransaction: async () => { throw new Error('unused') } }, grpcChatHandler({ handleChat: async c => { accepted.push(c) } }))
    })
    cleanup.push(async () => { await server.close(100) })
    const out = await new GrpcChatDialer().dialChat(server.address)
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
    // 50 MB offered; what went out is both ends' buffers and the HTTP/2 windows
    expect(sent).toBeGreaterThan(8)
    expect(sent).toBeLessThan(100)
    const got: number[] = []
    while (got.length < total) got.push((await accepted[0].recv())!.payload[0])
    await sending
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i % 256))
    await out.close()
    expect(await accepted[0].recv()).toBeUndefined()
    await accepted[0].close()
    expect(await out.recv()).toBeUndefined()
  })

  it('a non-validator hands transactions to a validator with Peer.ProcessTransaction', async () => {
    const got: Transaction[] = []
    const engine: Engine = {
      getHandlerFactory: () => newPeerHandler,
      processTransaction: async tx => {
        got.push(tx)
        return create(ResponseSchema, { status: Response_StatusCode.SUCCESS, msg: utf8(tx.txid) })
      }
    }
    const v = await grpcPeer('vp0', {}, { engine })
    const nvp = await grpcPeer('nvp0', { validator: false })
    await nvp.peer.chatWithPeer(v.address)
    await waitFor('connected', () => nvp.peer.getValidators().length === 1)
    const tx = create(TransactionSchema, { type: Transaction_Type.CHAINCODE_INVOKE, txid: 'tx-1', payload: utf8('invoke') })
    const res = await nvp.peer.executeTransaction(tx)
    expect([res.status, fromUtf8(res.msg)]).toEqual([Response_StatusCode.SUCCESS, 'tx-1'])
    expect(got.map(t => t.txid)).toEqual(['tx-1'])
  })

  it('gives up on rootnodes it cannot reach (refused, or silent past the connect timeout) and keeps running', async () => {
    // Accepts TCP connections and never answers: a dial there can only time out.
    const silent = createServer(() => {})
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    const sockets: Socket[] = []
    silent.on('connection', s => sockets.push(s))
    cleanup.push(async () => { sockets.forEach(s => s.destroy()); await new Promise(resolve => silent.close(resolve)) })
    const mute = `127.0.0.1:${(silent.address() as AddressInfo).port}`
    const a = await grpcPeer('vp0', { discovery: { rootNodes: ['127.0.0.1:1', mute] } }, { dialer: new GrpcChatDialer({ connectTimeout: 300 }) })
    await waitFor('both dials to fail', () => a.dials.length === 2 && a.dials.every(d => d.error !== undefined))
    expect(a.dials.map(d => [d.address, d.error?.message])).toEqual([
      ['127.0.0.1:1', 'cannot connect to 127.0.0.1:1: the connection failed'],
      [mute, `cannot connect to ${mute}: no connection within 300 ms`]
    ])
    const b = await grpcPeer('vp1')
    await b.peer.chatWithPeer(a.address)
    await waitFor('connected', () => a.peer.peerIDs().includes('vp1'))
  })
})

describe('one dialer for both transports', () => {
  it('sends host:port to gRPC and multiaddrs to libp2p, and has no transport for anything else', async () => {
    const node = await createNodeLibp2p({ listen: [] })
    cleanup.push(async () => { await node.stop() })
    const transports = [new GrpcTransport('127.0.0.1:7051'), libp2pChat()({ node })]
    const via = (a: string): string | undefined => transportFor(transports, a)?.name
    expect(['127.0.0.1:7051', 'vp0.example.com:7051', '[::1]:7051'].map(via)).toEqual(['grpc', 'grpc', 'grpc'])
    expect(['/ip4/127.0.0.1/tcp/7055/ws', '/dns4/example.com/tcp/443/wss', '/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'].map(via)).toEqual(['libp2p', 'libp2p', 'libp2p'])
    expect(['vp0', 'host:0', ''].map(via)).toEqual([undefined, undefined, undefined])
    const dialer = transportDialer(transports)
    expect(dialer.canDial!('vp0')).toBe(false)
    await expect(dialer.dialChat('vp0')).rejects.toThrow('cannot dial vp0: no transport of this peer (grpc, libp2p) reaches that address')
  })

  it('chats with a gRPC peer by host:port and a libp2p peer by multiaddr', async () => {
    // L speaks libp2p only.
    const node: NodeLibp2p = await createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const chat: Libp2pChat = libp2pChat()({ node })
    const lAddress = node.getMultiaddrs()[0].toString()
    const l = createPeer(testInit('vp2', { address: lAddress }), { ledger: await newLedger(), dialer: chat, random: seededRandom(9) })
    await chat.start(l)
    await l.start()
    cleanup.push(async () => { await l.stop(); await chat.stop(); await node.stop() })

    const g = await grpcPeer('vp1')
    const mNode = await createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const mChat = libp2pChat()({ node: mNode })
    cleanup.push(async () => { await mChat.stop(); await mNode.stop() })
    const m = await grpcPeer('vp0', {}, { dialer: transportDialer([new GrpcTransport('127.0.0.1:1'), mChat]) })
    await mChat.start(m.peer)

    await m.peer.chatWithPeer(g.address)
    await m.peer.chatWithPeer(lAddress)
    await waitFor('both', () => m.peer.peerIDs().sort().join() === 'vp1,vp2')
    expect(m.peer.getRemoteLedger('vp1').stream.transport).toBe('grpc')
    expect(m.peer.getRemoteLedger('vp2').stream.transport).toBe('libp2p/tcp')
    const gOnly = transportDialer([new GrpcTransport('127.0.0.1:1')])
    await expect(gOnly.dialChat(lAddress)).rejects.toThrow(`cannot dial ${lAddress}: no transport of this peer (grpc) reaches that address`)
  })
})
