// The bridge: one Node peer holding gRPC and libp2p chats at once. A is a validating noops peer
// of a gRPC network; B, a non-validating Node peer, chats with A over gRPC (as Fabric peers do)
// and listens on libp2p WebSockets; C, a libp2p-only non-validator with memory storage and no
// listen address (as a browser tab is), chats with B. Blocks flow A → B (gRPC) → C (libp2p); a
// transaction made at C flows C → B (/weft/process-tx) → A (gRPC Peer.ProcessTransaction).
import { create, fromBinary } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePorts } from '../../node/net/free-ports.ts'
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest'
import { GrpcChatDialer } from '../../node/grpc/chat-dialer.ts'
import { createNodeLibp2p, type NodeLibp2p } from '../../node/libp2p/create-node.ts'
import { serve, type RunningPeer } from '../../node/peer/serve.ts'
import { newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import { loadConfig } from '../../src/config/index.ts'
import { fromUtf8, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { blockHash } from '../../src/ledger/block.ts'
import { PeerNode } from '../../src/peer-node.ts'
import type { PeerConnection } from '../../src/peer-node/status.ts'
import { ChaincodeInvocationSpecSchema, ChaincodeSpec_Type, type ChaincodeInvocationSpec } from '../../src/protos/chaincode_pb.ts'
import { Message_Type, PeerEndpoint_Type, PeersMessageSchema, Response_StatusCode, Transaction_Type, type Message } from '../../src/protos/fabric_pb.ts'
import { PeerHandler } from '../../src/peer/handler.ts'
import { memoryStore } from '../../src/storage/index.ts'
import { Libp2pChat, libp2pChat } from '../../src/transport/libp2p-chat.ts'
import type { PeerTransport } from '../../src/transport/peer-transport.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { systemRandom, systemScheduler } from '../../src/util/scheduler.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const example02 = join(root, 'examples/chaincode/example02.ts')
/** Short, so DISC_GET_PEERS / DISC_PEERS cross the bridge during the test. */
const discoveryPeriod = '250ms'

let logs: ReturnType<typeof captureLogs>
const dirs: string[] = []
const cleanups: Array<() => Promise<void>> = []

/** A Node peer as `weft node start` runs it, in this process, on its own loopback ports and data directory. */
async function nodePeer (address: string, env: Record<string, string>): Promise<RunningPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-bridge-'))
  dirs.push(dir)
  const peer = await serve(loadConfig({
    env: {
      CORE_PEER_FILESYSTEMPATH: dir,
      CORE_PEER_ADDRESS: address,
      CORE_PEER_LISTENADDRESS: address,
      CORE_REST_ADDRESS: '127.0.0.1:0',
      CORE_PEER_VALIDATOR_EVENTS_ADDRESS: '127.0.0.1:0',
      CORE_PEER_LIBP2P_ADDRESS: '127.0.0.1:0',
      CORE_PEER_DISCOVERY_PERIOD: discoveryPeriod,
      CORE_WEB_ENABLED: 'false',
      CORE_NOOPS_BLOCK_WAIT: '100ms',
      ...env
    }
  }))
  cleanups.push(async () => { await peer.stop() })
  return peer
}

interface TabPeer { node: PeerNode, libp2p: NodeLibp2p, dialed: string[] }

/** A peer as a browser tab runs one: libp2p only, no listen address (its address is /p2p/<id>), memory storage. */
async function tabPeer (id: string, rootnode: string): Promise<TabPeer> {
  const libp2p = await createNodeLibp2p({ listen: [] })
  const chat = libp2pChat()({ node: libp2p })
  const dialed: string[] = []
  const transport: PeerTransport = {
    name: chat.name,
    address: chat.address,
    canDial: address => chat.canDial(address),
    dialChat: async (address, options) => { dialed.push(address); return await chat.dialChat(address, options) },
    processTransaction: async (address, tx, options) => await chat.processTransaction(address, tx, options),
    start: server => chat.start(server),
    stop: () => chat.stop()
  }
  const node = await PeerNode.create(loadConfig({
    env: { CORE_PEER_ID: id, CORE_PEER_VALIDATOR_ENABLED: 'false', CORE_PEER_DISCOVERY_ROOTNODE: rootnode, CORE_PEER_DISCOVERY_PERIOD: discoveryPeriod }
  }), { store: await memoryStore(), transports: [transport], scheduler: systemScheduler, random: systemRandom })
  await node.start()
  cleanups.push(async () => { await node.stop(); await libp2p.stop() })
  return { node, libp2p, dialed }
}

async function rpc (restUrl: string, method: string, params: unknown): Promise<string> {
  const res = await fetch(`${restUrl}/chaincode`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) })
  const body = await res.json() as { result?: { message: string }, error?: unknown }
  if (body.result === undefined) throw new Error(`${method} failed: ${JSON.stringify(body.error)}`)
  return body.result.message
}

function invocation (name: string, args: string[]): ChaincodeInvocationSpec {
  return create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.NODE, chaincodeID: { name }, ctorMsg: { args: args.map(utf8) } } })
}

/** Every block's hash and state hash, and the state's own hash: what must match across peers. */
async function chainOf (node: PeerNode): Promise<{ blocks: string[], stateHashes: string[], state: string }> {
  const blocks: string[] = []
  const stateHashes: string[] = []
  for (let n = 0n; n < BigInt(node.height); n++) {
    const b = (await node.getBlockByNumber(n))!
    blocks.push(toHex(blockHash(b)))
    stateHashes.push(toHex(b.stateHash))
  }
  return { blocks, stateHashes, state: toHex((await node.head()).stateHash) }
}

const heights = async (...nodes: PeerNode[]): Promise<number[]> => await Promise.all(nodes.map(async n => (await n.head()).stateBlock))
const same = async (h: number, ...nodes: PeerNode[]): Promise<boolean> => (await heights(...nodes)).every(x => x === h)
/** `node`'s chat with the peer called `name`. */
const chat = (node: PeerNode, name: string): PeerConnection | undefined => node.connections().find(c => c.name === name)
const names = (node: PeerNode): string[] => node.connections().map(c => c.name).sort()

let A: RunningPeer
let B: RunningPeer
let C: TabPeer
let aAddress: string
let bMultiaddr: string

beforeAll(async () => {
  logs = captureLogs()
  setLogLevel('debug')
  // Only the gRPC ports must be known up front: they are the addresses the peers give in HELLO.
  const [aPort, bPort] = await freePorts(2)
  aAddress = `127.0.0.1:${aPort}`
  // A has no rootnode: the README's peer. Over gRPC it still tells B its host:port (per-transport address).
  A = await nodePeer(aAddress, { CORE_PEER_ID: 'vp0', CORE_PEER_VALIDATOR_ENABLED: 'true' })
  B = await nodePeer(`127.0.0.1:${bPort}`, { CORE_PEER_ID: 'nvp0', CORE_PEER_VALIDATOR_ENABLED: 'false', CORE_PEER_DISCOVERY_ROOTNODE: aAddress })
  bMultiaddr = B.multiaddrs.find(m => m.includes('/ws/'))!
  C = await tabPeer('nvp1', bMultiaddr)
})

afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
  vi.restoreAllMocks()
  setLogLevel('info')
  logs.restore()
})

describe('the Node peer as a bridge between a gRPC network and libp2p peers', () => {
  it('chats with A over gRPC and with C over libp2p at once; blocks and transactions cross it both ways', async () => {
    onTestFailed(() => { console.error(logs.dump()) })
    const [a, b, c] = [A.node, B.node, C.node]
    // Every message a peer handler here takes (A's, B's and C's), to see what crossed the bridge.
    const taken = vi.spyOn(PeerHandler.prototype, 'handleMessage')
    /** What A (over gRPC) or C (over libp2p) took from B. */
    const fromB = (type: Message_Type, transport: 'grpc' | 'libp2p'): Message[] => taken.mock.calls.flatMap(([m], i) => {
      const h = taken.mock.contexts[i] as PeerHandler
      return m.type === type && h.to()?.ID?.name === 'nvp0' && h.stream.transport.startsWith(transport) ? [m] : []
    })

    // HELLO: B–A over gRPC (B dialled A's host:port), C–B over libp2p WebSockets (C dialled B's multiaddr).
    await waitFor('A and B say HELLO', () => chat(a, 'nvp0') !== undefined && chat(b, 'vp0') !== undefined)
    await waitFor('B and C say HELLO', () => chat(b, 'nvp1') !== undefined && chat(c, 'nvp0') !== undefined)
    expect(chat(b, 'vp0')).toMatchObject({ transport: 'grpc', initiated: true })
    expect(chat(a, 'nvp0')?.transport).toBe('grpc')
    expect(chat(b, 'nvp1')?.transport).toBe('libp2p/ws')
    expect(chat(c, 'nvp0')).toMatchObject({ transport: 'libp2p/ws', remote: B.libp2p.peerId.toString() })
    expect(names(b)).toEqual(['nvp1', 'vp0'])
    // Each side hears the address it can dial back on its own transport: host:port over gRPC, a multiaddr over libp2p.
    expect(chat(b, 'vp0')).toMatchObject({ address: aAddress, type: PeerEndpoint_Type.VALIDATOR })
    expect(chat(a, 'nvp0')).toMatchObject({ address: B.node.config.peer.address, type: PeerEndpoint_Type.NON_VALIDATOR })
    expect(chat(c, 'nvp0')).toMatchObject({ address: bMultiaddr, type: PeerEndpoint_Type.NON_VALIDATOR })

    // The genesis block reaches B (from A) and C (from B): non-validators make none of their own.
    await waitFor('B and C have the genesis block', () => same(0, B.node, C.node))
    expect(toHex((await C.node.getBlockByNumber(0n))!.previousBlockHash)).toBe('')
    expect(toHex(blockHash((await C.node.getBlockByNumber(0n))!))).toBe(toHex(blockHash((await A.node.getBlockByNumber(0n))!)))

    // Deploy and invoke example02 at A through REST: each block reaches B, then C, one SYNC_BLOCK_ADDED per hop.
    const added: string[] = []
    B.node.onBlock(blk => added.push(`B${blk.number}`))
    C.node.onBlock(blk => added.push(`C${blk.number}`))
    const heardAtB = chat(b, 'vp0')!.blocksAnnounced
    const heardAtC = chat(c, 'nvp0')!.blocksAnnounced
    const name = await rpc(A.restUrl!, 'deploy', { type: 2, chaincodeID: { path: example02 }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] } })
    expect(name).toMatch(/^[0-9a-f]{128}$/)
    await waitFor('the deploy at A, B and C', () => same(1, A.node, B.node, C.node), 15_000)
    const txid = await rpc(A.restUrl!, 'invoke', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '10'] } })
    await waitFor('the invoke at A, B and C', () => same(2, A.node, B.node, C.node))
    expect(added).toEqual(['B1', 'C1', 'B2', 'C2'])
    expect(chat(b, 'vp0')!.blocksAnnounced - heardAtB).toBe(2) // from A, over gRPC
    expect(chat(c, 'nvp0')!.blocksAnnounced - heardAtC).toBe(2) // from B, over libp2p
    expect((await C.node.getTransactionByID(txid))?.txid).toBe(txid)
    const atA = await chainOf(A.node)
    expect(atA.blocks).toHaveLength(3)
    expect(atA.state).not.toBe('')
    expect(await chainOf(B.node)).toEqual(atA)
    expect(await chainOf(C.node)).toEqual(atA)
    expect(fromUtf8((await A.node.query(invocation(name, ['query', 'a']))).msg)).toBe('90')

    // An invoke made at C: C → B over /weft/process-tx (to the multiaddr C reached B at, not the
    // host:port B advertises), B → A with gRPC Peer.ProcessTransaction; it commits everywhere.
    const overLibp2p = vi.spyOn(Libp2pChat.prototype, 'processTransaction')
    const overGrpc = vi.spyOn(GrpcChatDialer.prototype, 'processTransaction')
    const tx = newExecuteTransaction(invocation(name, ['invoke', 'b', 'a', '5']), 'tx-from-the-tab', Transaction_Type.CHAINCODE_INVOKE, timestampFromMs(Date.now()))
    const res = await c.processTransaction(tx)
    expect([res.status, fromUtf8(res.msg)]).toEqual([Response_StatusCode.SUCCESS, 'tx-from-the-tab'])
    expect(overLibp2p.mock.calls.map(call => call[0])).toEqual([bMultiaddr])
    expect(overGrpc.mock.calls.map(call => call[0])).toEqual([aAddress])
    await waitFor('the tab\'s invoke at A, B and C', () => same(3, A.node, B.node, C.node))
    expect(added.slice(4)).toEqual(['B3', 'C3'])
    for (const p of [A.node, B.node, C.node]) expect((await p.getTransactionByID('tx-from-the-tab'))?.txid).toBe('tx-from-the-tab')
    const after = await chainOf(A.node)
    expect(after.blocks).toHaveLength(4)
    expect(await chainOf(B.node)).toEqual(after)
    expect(await chainOf(C.node)).toEqual(after)
    expect(fromUtf8((await A.node.query(invocation(name, ['query', 'a']))).msg)).toBe('95')

    // B's REST lists A (a gRPC chat) and C (a libp2p chat), and B itself.
    const peers = await (await fetch(`${B.restUrl!}/network/peers`)).json() as { peers: Array<{ ID: { name: string }, address: string, type?: number }> }
    expect(peers.peers.map(p => [p.ID.name, p.address, p.type]).sort()).toEqual([
      ['nvp0', B.node.config.peer.address, PeerEndpoint_Type.NON_VALIDATOR],
      ['nvp1', `/p2p/${C.libp2p.peerId.toString()}`, PeerEndpoint_Type.NON_VALIDATOR],
      ['vp0', aAddress, PeerEndpoint_Type.VALIDATOR]
    ])

    // Discovery across the bridge: C hears of A's host:port from B and, having no gRPC, leaves it alone.
    await waitFor('C hears of A', () => fromB(Message_Type.DISC_PEERS, 'libp2p').some(m => fromBinary(PeersMessageSchema, m.payload).peers.some(p => p.ID?.name === 'vp0' && p.address === aAddress)))
    expect(C.dialed).toEqual([bMultiaddr])
    expect(names(b)).toEqual(['nvp1', 'vp0'])

    // B stops: it says DISC_DISCONNECT to A (gRPC) and to C (libp2p) before its servers go, and promptly.
    const t0 = Date.now()
    await B.stop()
    expect(Date.now() - t0).toBeLessThan(1500)
    await waitFor('A and C let B go', () => chat(a, 'nvp0') === undefined && chat(c, 'nvp0') === undefined)
    expect([fromB(Message_Type.DISC_DISCONNECT, 'grpc').length, fromB(Message_Type.DISC_DISCONNECT, 'libp2p').length]).toEqual([1, 1])
  }, 30_000)
})
