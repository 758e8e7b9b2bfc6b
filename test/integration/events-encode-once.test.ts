// A committed block's event reaches every Events.Chat listener, over gRPC and over libp2p, as
// Fabric's wire bytes, and is encoded once however many listeners there are (toBinary of a
// BLOCK event is counted).
import { create, equals, fromBinary, type toBinary as ToBinary } from '@bufbuild/protobuf'
import { credentials, type Client, type ClientDuplexStream } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { utf8 } from '../../src/crypto/bytes.ts'
import { blockEvent } from '../../src/events/events.ts'
import { EventHub } from '../../src/events/hub.ts'
import { serveEventStream, type EventStream } from '../../src/events/session.ts'
import { Ledger, makeGenesis } from '../../src/ledger/ledger.ts'
import { EventSchema, EventType, Events, InterestSchema, type Event } from '../../src/protos/events_pb.ts'
import { memoryStore } from '../../src/storage/memory.ts'
import { dialLibp2pEvents, serveLibp2pEvents } from '../../src/transport/libp2p-events.ts'
import { createNodeLibp2p, type NodeLibp2p } from '../../node/libp2p/create-node.ts'
import { addEventsService } from '../../node/grpc/events-service.ts'
import { startGrpcServer, type GrpcServer } from '../../node/grpc/server.ts'
import { clientConstructor } from '../../node/grpc/service-definition.ts'
import { waitFor } from '../helpers/wait.ts'

const encoded = vi.hoisted(() => ({ blockEvents: 0, wire: undefined as ((ev: Event) => Uint8Array) | undefined }))
vi.mock('@bufbuild/protobuf', async importOriginal => {
  const mod = await importOriginal<typeof import('@bufbuild/protobuf')>()
  const toBinary: typeof ToBinary = (schema, msg, options) => {
    if (schema.typeName === 'protos.Event' && (msg as Event).Event.case === 'block') encoded.blockEvents++
    return mod.toBinary(schema, msg, options)
  }
  encoded.wire = ev => mod.toBinary(EventSchema, ev)
  return { ...mod, toBinary }
})

const GRPC_LISTENERS = 3
const LIBP2P_LISTENERS = 2

let ledger: Ledger
let hub: EventHub
let grpc: GrpcServer
const nodes: NodeLibp2p[] = []
const clients: Client[] = []

beforeAll(async () => {
  ledger = await Ledger.open(await memoryStore())
  await makeGenesis(ledger)
  hub = new EventHub({ bufferSize: 100, timeoutMs: 10 })
  hub.attachLedger(ledger)
  grpc = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.validator.events.address' }, server => { addEventsService(server, stream => serveEventStream(hub, stream)) })
  nodes.push(...await Promise.all([0, 1].map(() => createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] }))))
  await serveLibp2pEvents(nodes[0], stream => serveEventStream(hub, stream))
})
afterAll(async () => {
  for (const c of clients) c.close()
  await grpc.close(100)
  for (const n of nodes) await n.stop()
  hub.close()
})

const registerBlocks = (): Event => create(EventSchema, { Event: { case: 'register', value: { events: [create(InterestSchema, { eventType: EventType.BLOCK })] } } })

/** A gRPC listener that keeps the raw bytes of what it receives. */
async function grpcListener (): Promise<Uint8Array[]> {
  const c = new (clientConstructor(Events, ['chat']))(grpc.address, credentials.createInsecure())
  clients.push(c)
  const stream = (c as unknown as { chat: () => ClientDuplexStream<Uint8Array, Uint8Array> }).chat()
  const got: Uint8Array[] = []
  stream.on('data', (b: Uint8Array) => got.push(b))
  // The server going away at the end of the file ends the call.
  stream.on('error', () => {})
  stream.write(encoded.wire!(registerBlocks()))
  await waitFor('the registration acknowledged', () => got.length === 1)
  return got
}

/** A libp2p listener, its events decoded. */
async function libp2pListener (): Promise<Event[]> {
  const stream: EventStream = await dialLibp2pEvents(nodes[1], nodes[0].getMultiaddrs()[0].toString())
  await stream.send(registerBlocks())
  expect((await stream.recv())?.Event.case).toBe('register')
  const got: Event[] = []
  void (async () => { for (let e = await stream.recv(); e !== undefined; e = await stream.recv()) got.push(e) })().catch(() => {})
  return got
}

async function commitBlock (n: number): Promise<void> {
  ledger.beginTxBatch(n)
  ledger.txBegin(`t${n}`)
  await ledger.setState('mycc', 'a', utf8(String(n)))
  ledger.txFinished(`t${n}`, true)
  await ledger.commitTxBatch(n, [], undefined)
}

describe('BLOCK events to many listeners', () => {
  it('reach every gRPC and libp2p listener byte for byte, encoded once per block', async () => {
    const grpcGot = await Promise.all(Array.from({ length: GRPC_LISTENERS }, grpcListener))
    const libp2pGot = await Promise.all(Array.from({ length: LIBP2P_LISTENERS }, libp2pListener))
    expect(hub.consumerCount).toBe(GRPC_LISTENERS + LIBP2P_LISTENERS)

    for (const n of [1, 2]) {
      const before = encoded.blockEvents
      await commitBlock(n)
      await waitFor(`block ${n} at every listener`, () => grpcGot.every(g => g.length === n + 1) && libp2pGot.every(g => g.length === n))
      expect(encoded.blockEvents - before, `encodings of block ${n}'s event`).toBe(1)

      const wire = encoded.wire!(blockEvent((await ledger.getBlockByNumber(n))!))
      for (const g of grpcGot) expect(Buffer.from(g[n]).equals(wire)).toBe(true)
      for (const g of libp2pGot) expect(equals(EventSchema, g[n - 1], fromBinary(EventSchema, wire))).toBe(true)
    }
  })
})
