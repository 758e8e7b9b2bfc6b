// PeerNode's policies, the same on every platform: who makes the genesis block, who tells
// non-validators of each block (and how often), the order it stops in, and the PBFT network it
// derives from a validator list. PeerNodes on a memory network, and raw chats that speak as a
// Fabric 0.6.1 non-validating peer does.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fromUtf8, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { blockHash, timestampAt } from '../../src/ledger/block.ts'
import { StateDelta } from '../../src/ledger/state-delta.ts'
import type { PeerNode } from '../../src/peer-node.ts'
import { PeerHandler } from '../../src/peer/handler.ts'
import { helloMessage, withoutPayloads } from '../../src/peer/messages.ts'
import { ChaincodeInvocationSpecSchema, ChaincodeSpec_Type, type ChaincodeSpec } from '../../src/protos/chaincode_pb.ts'
import { BlockchainInfoSchema, BlockSchema, BlockStateSchema, Message_Type, PeerEndpointSchema, PeerEndpoint_Type, type Block, type Message } from '../../src/protos/fabric_pb.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { MemoryNetwork } from '../../src/transport/memory.ts'
import { memoryNode } from './peer-helpers.ts'
import { captureLogs } from '../helpers/logs.ts'
import { waitFor } from '../helpers/wait.ts'

/** Counts invocations: `invoke` adds one to n and writes k<n>. */
const source = `
export function init (stub) { return stub.putState('n', '0') }
export async function invoke (stub) { const n = Number(new TextDecoder().decode(await stub.getState('n'))); await stub.putState('n', String(n + 1)); await stub.putState('k' + n, 'v') }
export async function query (stub) { return await stub.getState('n') }
`
const packageChaincode = async (): Promise<Uint8Array> => utf8(source)
const counter: ChaincodeSpec = { $typeName: 'protos.ChaincodeSpec', type: ChaincodeSpec_Type.NODE, chaincodeID: { $typeName: 'protos.ChaincodeID', path: 'counter', name: '' }, ctorMsg: { $typeName: 'protos.ChaincodeInput', args: [utf8('init')] }, timeout: 0, secureContext: '', confidentialityLevel: 0, metadata: new Uint8Array(0), attributes: [] }
const invocation = (name: string) => create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: ChaincodeSpec_Type.NODE, chaincodeID: { name }, ctorMsg: { args: [utf8('invoke')] } } })

let logs: ReturnType<typeof captureLogs>
let nodes: PeerNode[] = []
let raws: ChatStream[] = []
beforeEach(() => { logs = captureLogs(); nodes = []; raws = [] })
afterEach(async () => {
  for (const s of raws) await s.close()
  await Promise.all(nodes.map(async n => await n.stop()))
  logs.restore()
})

async function node (...args: Parameters<typeof memoryNode>): Promise<PeerNode> {
  const n = await memoryNode(args[0], args[1], args[2], { packageChaincode, ...args[3] })
  nodes.push(n)
  return n
}

interface RawChat { stream: ChatStream, got: Message[], ended: Promise<void> }

/** A chat to `address` that says DISC_HELLO as a Fabric non-validator at height 0 and keeps every message it gets. */
async function fabricNonValidator (net: MemoryNetwork, name: string, address: string): Promise<RawChat> {
  const stream = await net.dialer(name).dialChat(address)
  raws.push(stream)
  const endpoint = create(PeerEndpointSchema, { ID: { name }, address: name, type: PeerEndpoint_Type.NON_VALIDATOR })
  await stream.send(helloMessage(endpoint, create(BlockchainInfoSchema, { height: 0n }), timestampAt(Date.now())))
  const got: Message[] = []
  const ended = (async () => { for (let m = await stream.recv(); m !== undefined; m = await stream.recv()) got.push(m) })().catch(() => {})
  return { stream, got, ended }
}

/** The blocks a raw chat was sent as SYNC_BLOCK_ADDED, in order. */
const announced = (raw: RawChat): Block[] => raw.got.filter(m => m.type === Message_Type.SYNC_BLOCK_ADDED).map(m => fromBinary(BlockStateSchema, m.payload).block!)

describe('genesis', () => {
  it('a validator makes block 0; a non-validator makes none and takes the network\'s by sync', async () => {
    const net = new MemoryNetwork()
    const vp0 = await node(net, 'vp0')
    expect(vp0.height).toBe(1)
    const nvp0 = await node(net, 'nvp0', { peer: { validator: { enabled: false }, discovery: { rootnode: 'vp0' } } })
    expect(nvp0.height).toBe(0)
    expect((await nvp0.getBlockchainInfo()).height).toBe(0n)
    await vp0.start()
    await nvp0.start()
    await waitFor('block 0 at nvp0', async () => (await nvp0.head()).stateBlock === 0)
    expect(toHex(blockHash((await nvp0.getBlockByNumber(0n))!))).toBe(toHex(blockHash((await vp0.getBlockByNumber(0n))!)))
  })
})

describe('block announcements', () => {
  it('a noops validator sends a Fabric non-validator each block once, payloads cleared, with its state delta', async () => {
    const net = new MemoryNetwork()
    const vp0 = await node(net, 'vp0', { noops: { block: { wait: 0 } } })
    await vp0.start()
    const raw = await fabricNonValidator(net, 'fabric-nvp', 'vp0')
    await waitFor('the HELLO', () => vp0.connections().some(c => c.name === 'fabric-nvp'))
    const cds = await vp0.deploy(counter, { waitMs: 10_000 })
    const name = cds.chaincodeSpec!.chaincodeID!.name
    for (let i = 0; i < 3; i++) await vp0.invoke(invocation(name), { waitMs: 10_000 })
    expect(vp0.height).toBe(5)
    await waitFor('four announcements', () => announced(raw).length >= 4)
    await new Promise(resolve => setTimeout(resolve, 200))
    const blocks = announced(raw)
    expect(blocks).toHaveLength(4)
    for (const [i, b] of blocks.entries()) {
      const full = (await vp0.getBlockByNumber(BigInt(i + 1)))!
      expect(toBinary(BlockSchema, b)).toEqual(toBinary(BlockSchema, withoutPayloads(full)))
      expect(b.transactions.every(tx => tx.payload.length === 0)).toBe(true)
    }
    const last = raw.got.filter(m => m.type === Message_Type.SYNC_BLOCK_ADDED).at(-1)!
    const delta = StateDelta.unmarshal(fromBinary(BlockStateSchema, last.payload).stateDelta)
    expect(delta.entries().map(e => [e.key, fromUtf8(e.value!)])).toEqual([['k2', 'v'], ['n', '3']])
  })

  it('every PBFT validator sends a Fabric non-validator each block once', async () => {
    const net = new MemoryNetwork()
    const names = ['vp0', 'vp1', 'vp2', 'vp3']
    const validators = names.map(name => ({ name }))
    const vps: PeerNode[] = []
    for (const [i, name] of names.entries()) {
      vps.push(await node(net, name, {
        peer: { validator: { consensus: { plugin: 'pbft' } }, discovery: { rootnode: names.slice(0, i).join(',') } },
        pbft: { general: { batchsize: 1 } }
      }, { identity: { validators } }))
    }
    for (const vp of vps) await vp.start()
    await waitFor('a full mesh', () => vps.every(vp => vp.connections().length === 3))
    const raws = await Promise.all(names.map(async (name, i) => await fabricNonValidator(net, `fabric-nvp${i}`, name)))
    await waitFor('the HELLOs', () => vps.every((vp, i) => vp.connections().some(c => c.name === `fabric-nvp${i}`)))
    const cds = await vps[1].deploy(counter, { waitMs: 20_000 })
    await vps[2].invoke(invocation(cds.chaincodeSpec!.chaincodeID!.name), { waitMs: 20_000 })
    await waitFor('every validator at height 3', () => vps.every(vp => vp.height === 3), 20_000)
    await waitFor('two announcements from each', () => raws.every(r => announced(r).length >= 2))
    await new Promise(resolve => setTimeout(resolve, 200))
    const hashes = async (n: bigint): Promise<string> => toHex(blockHash(withoutPayloads((await vps[0].getBlockByNumber(n))!)))
    const expected = [await hashes(1n), await hashes(2n)]
    for (const r of raws) expect(announced(r).map(b => toHex(blockHash(b)))).toEqual(expected)
  }, 60_000)
})

describe('stopping', () => {
  it('says DISC_DISCONNECT on every chat, in and out, while the transport carries it, and leaves none open', async () => {
    const net = new MemoryNetwork()
    const nvp1 = await node(net, 'nvp1', { peer: { validator: { enabled: false } } })
    await nvp1.start()
    const vp0 = await node(net, 'vp0', { peer: { discovery: { rootnode: 'nvp1' } } })
    await vp0.start()
    const nvp0 = await node(net, 'nvp0', { peer: { validator: { enabled: false }, discovery: { rootnode: 'vp0' } } })
    await nvp0.start()
    const raw = await fabricNonValidator(net, 'fabric-nvp', 'vp0')
    await waitFor('three chats at vp0', () => vp0.connections().length === 3)
    expect(vp0.connections().map(c => [c.name, c.initiated]).sort()).toEqual([['fabric-nvp', false], ['nvp0', false], ['nvp1', true]])

    const taken = vi.spyOn(PeerHandler.prototype, 'handleMessage')
    await vp0.stop()
    await raw.ended
    expect(raw.got.at(-1)?.type).toBe(Message_Type.DISC_DISCONNECT)
    await waitFor('its peers let it go', () => nvp0.connections().length === 0 && nvp1.connections().length === 0)
    // Both took it as DISC_DISCONNECT (not merely a stream that broke).
    const byes = taken.mock.calls.filter(([m], i) => m.type === Message_Type.DISC_DISCONNECT && (taken.mock.contexts[i] as PeerHandler).to()?.ID?.name === 'vp0')
    taken.mockRestore()
    expect(byes).toHaveLength(2)
    // The transport stopped with it: nothing reaches vp0 any more.
    await expect(net.dialer('late').dialChat('vp0')).rejects.toThrow('no peer listening at memory address vp0')
  })
})

describe('the validator set', () => {
  it('a listed PBFT network fixes N, and f follows unless configured for that N', async () => {
    const net = new MemoryNetwork()
    const seven = Array.from({ length: 7 }, (_, i) => ({ name: `vp${i}` }))
    const a = await node(net, 'vp0', { peer: { validator: { consensus: { plugin: 'pbft' } } } }, { identity: { validators: seven } })
    expect([a.config.pbft.general.N, a.config.pbft.general.f]).toEqual([7, 2])
    expect(a.consensusStatus()).toMatchObject({ plugin: 'pbft', N: 7, f: 2, liveValidators: ['vp0'], pbft: { view: 0, primary: 0, activeView: true, lastExec: 0, h: 0, outstandingRequests: 0 } })
    const four = seven.slice(0, 4)
    const b = await node(net, 'vp1', { peer: { validator: { consensus: { plugin: 'pbft' } } }, pbft: { general: { N: 4, f: 0 } } }, { identity: { validators: four } })
    expect(b.consensusStatus()).toMatchObject({ N: 4, f: 0, pbft: { primary: 0 } })
    const nvp = await node(net, 'nvp0', { peer: { validator: { enabled: false } } })
    expect(nvp.consensusStatus()).toBeUndefined()
  })
})
