// Fabric 0.6.1 clients' view of the Node peer's gRPC services: our own grpc-js clients speak
// the wire (paths /protos.<Service>/<Method>, protobuf messages) against Devops, Openchain,
// Admin, Peer.ProcessTransaction and Events.Chat, served over a fake peer that commits real blocks.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { EmptySchema } from '@bufbuild/protobuf/wkt'
import { credentials, makeClientConstructor, status, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newExecuteTransaction } from '../../src/chaincode/transactions.ts'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import { membershipUnavailable } from '../../src/peer-api.ts'
import { BlockNumberSchema, Openchain, type BlockCount } from '../../src/protos/api_pb.ts'
import {
  ChaincodeDeploymentSpecSchema, ChaincodeInvocationSpecSchema, ChaincodeSpecSchema, ChaincodeSpec_Type,
  type ChaincodeDeploymentSpec
} from '../../src/protos/chaincode_pb.ts'
import { Devops, SecretSchema, SigmaInputSchema } from '../../src/protos/devops_pb.ts'
import { EventSchema, EventType, Events, InterestSchema, type Event, type Interest } from '../../src/protos/events_pb.ts'
import {
  BlockchainInfoSchema, Peer, Response_StatusCode, Transaction_Type, type Block, type BlockchainInfo, type PeersMessage, type Response
} from '../../src/protos/fabric_pb.ts'
import { Admin, ServerStatus_StatusCode, type ServerStatus } from '../../src/protos/server_admin_pb.ts'
import { addAdminService } from '../../node/grpc/admin-service.ts'
import { addDevopsService } from '../../node/grpc/devops-service.ts'
import { addEventsService } from '../../node/grpc/events-service.ts'
import { serveEventStream } from '../../src/events/session.ts'
import { addOpenchainService } from '../../node/grpc/openchain-service.ts'
import { addPeerService } from '../../node/grpc/peer-service.ts'
import { startGrpcServer, type GrpcServer } from '../../node/grpc/server.ts'
import { clientConstructor } from '../../node/grpc/service-definition.ts'
import { fakePeer, type FakePeer } from '../rest/fake-peer.ts'
import { waitFor } from '../helpers/wait.ts'

let peer: FakePeer
let main: GrpcServer
let events: GrpcServer
const clients: Client[] = []

beforeAll(async () => {
  peer = await fakePeer({ transferEvents: true })
  main = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.listenAddress' }, server => {
    addPeerService(server, peer)
    addAdminService(server, peer)
    addDevopsService(server, peer, { securityEnabled: false })
    addOpenchainService(server, peer)
  })
  events = await startGrpcServer({ address: '127.0.0.1:0', key: 'peer.validator.events.address' }, server => { addEventsService(server, stream => serveEventStream(peer.hub, stream)) })
})
afterAll(async () => {
  for (const c of clients) c.close()
  await main.close(100)
  await events.close(100)
  await peer.close()
})

function client (service: Parameters<typeof clientConstructor>[0], address = main.address): Client {
  const Ctor = clientConstructor(service)
  const c = new Ctor(address, credentials.createInsecure())
  clients.push(c)
  return c
}
type Unary = (req: unknown, cb: (err: ServiceError | null, res: unknown) => void) => void
function call<T> (c: Client, method: string, req: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    (c as unknown as Record<string, Unary>)[method].call(c, req, (e, r) => { if (e !== null) reject(e); else resolve(r as T) })
  })
}
const empty = create(EmptySchema)
const spec = (name: string, args: string[]) => create(ChaincodeSpecSchema, { type: ChaincodeSpec_Type.GOLANG, chaincodeID: { name }, ctorMsg: { args: args.map(utf8) } })
const invocation = (name: string, args: string[]) => create(ChaincodeInvocationSpecSchema, { chaincodeSpec: spec(name, args) })

/** An Events.Chat consumer as Fabric's events/consumer adapter drives it. */
function eventClient () {
  const c = client(Events, events.address)
  const stream = (c as unknown as { chat: () => ClientDuplexStream<Event, Event> }).chat()
  const got: Event[] = []
  let ended: ServiceError | undefined | null = null
  stream.on('data', (e: Event) => got.push(e))
  stream.on('error', (e: ServiceError) => { ended = e })
  stream.on('end', () => { ended ??= undefined })
  return { stream, got, ended: () => ended }
}
const interest = (eventType: EventType, chaincodeID?: string, eventName = ''): Interest => create(InterestSchema, chaincodeID === undefined
  ? { eventType }
  : { eventType, RegInfo: { case: 'chaincodeRegInfo', value: { chaincodeID, eventName } } })

describe('Devops, Openchain and Events together', () => {
  it('deploys, invokes and queries, and the event consumer sees BLOCK, CHAINCODE and REJECTION', async () => {
    const ev = eventClient()
    const reg = create(EventSchema, { Event: { case: 'register', value: { events: [interest(EventType.BLOCK), interest(EventType.CHAINCODE, 'mycc'), interest(EventType.REJECTION)] } } })
    ev.stream.write(reg)
    await waitFor('the register ack', () => ev.got.length === 1)
    expect(toBinary(EventSchema, ev.got[0])).toEqual(toBinary(EventSchema, reg))

    const devops = client(Devops)
    const cds = await call<ChaincodeDeploymentSpec>(devops, 'deploy', spec('mycc', ['init', 'a', '100', 'b', '200']))
    expect(cds.chaincodeSpec?.chaincodeID?.name).toBe('mycc')
    await peer.flush()
    const inv = await call<Response>(devops, 'invoke', invocation('mycc', ['invoke', 'a', 'b', '10']))
    expect(inv.status).toBe(Response_StatusCode.SUCCESS)
    const txid = fromUtf8(inv.msg)
    await peer.flush()
    const q = await call<Response>(devops, 'query', invocation('mycc', ['query', 'a']))
    expect([q.status, fromUtf8(q.msg)]).toEqual([Response_StatusCode.SUCCESS, '90'])

    await waitFor('block, block, chaincode events', () => ev.got.length === 4)
    expect(ev.got.slice(1).map(e => e.Event.case)).toEqual(['block', 'block', 'chaincodeEvent'])
    const deployBlock = ev.got[1].Event.value as Block
    expect(deployBlock.transactions[0].txid).toBe('mycc')
    expect(ev.got[3].Event.value).toMatchObject({ chaincodeID: 'mycc', txID: txid, eventName: 'transfer' })

    const bad = await call<Response>(devops, 'invoke', invocation('mycc', ['invoke', 'a', 'nobody', '1']))
    await peer.flush()
    await waitFor('rejection and block', () => ev.got.length === 6)
    expect(ev.got.slice(4).map(e => e.Event.case)).toEqual(['rejection', 'block'])
    const rejection = ev.got[4].Event.value as { tx: { txid: string }, errorMsg: string }
    expect(rejection.tx.txid).toBe(fromUtf8(bad.msg))
    expect(rejection.errorMsg).toBe('Transaction or query returned with failure: Entity not found')
    expect((ev.got[5].Event.value as Block).transactions).toHaveLength(0)

    const unreg = create(EventSchema, { Event: { case: 'unregister', value: { events: [interest(EventType.BLOCK)] } } })
    ev.stream.write(unreg)
    await waitFor('the unregister ack', () => ev.got.length === 7)
    expect(ev.got[6].Event.case).toBe('unregister')
    ev.stream.end()
    await waitFor('the end of the events stream', () => ev.ended() !== null)
    expect(ev.ended()).toBeUndefined()
    await waitFor('the consumer to be dropped', () => peer.hub.consumerCount === 0)

    const openchain = client(Openchain)
    const info = await call<BlockchainInfo>(openchain, 'getBlockchainInfo', empty)
    expect(toBinary(BlockchainInfoSchema, info)).toEqual(toBinary(BlockchainInfoSchema, await peer.ledger.getBlockchainInfo()))
    expect(info.height).toBe(4n)
    expect((await call<BlockCount>(openchain, 'getBlockCount', empty)).count).toBe(4n)
    const b1 = await call<Block>(openchain, 'getBlockByNumber', create(BlockNumberSchema, { number: 1n }))
    expect(fromBinary(ChaincodeDeploymentSpecSchema, b1.transactions[0].payload).chaincodeSpec?.chaincodeID?.name).toBe('mycc')
    await expect(call(openchain, 'getBlockByNumber', create(BlockNumberSchema, { number: 99n }))).rejects.toMatchObject({ code: status.UNKNOWN, details: 'openchain: resource not found' })
    const peers = await call<PeersMessage>(openchain, 'getPeers', empty)
    expect(peers.peers.map(p => p.ID?.name)).toEqual(['vp1'])
  })

  it('Devops answers Login, Build, failures and the EXP_ methods clearly', async () => {
    const devops = client(Devops)
    const login = await call<Response>(devops, 'login', create(SecretSchema, { enrollId: 'jim', enrollSecret: 'x' }))
    expect([login.status, fromUtf8(login.msg)]).toEqual([Response_StatusCode.FAILURE, membershipUnavailable(false)])
    expect((await call<ChaincodeDeploymentSpec>(devops, 'build', spec('cc', ['init']))).chaincodeSpec?.chaincodeID?.name).toBe('cc')
    await expect(call(devops, 'query', invocation('mycc', ['query', 'zz']))).rejects.toMatchObject({ code: status.UNKNOWN, details: '{"Error":"Nil amount for zz"}' })
    await expect(call(devops, 'invoke', create(ChaincodeInvocationSpecSchema))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'ChaincodeInvocationSpec has no chaincodeSpec' })
    await expect(call(devops, 'deploy', create(ChaincodeSpecSchema))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'ChaincodeSpec has no chaincodeID' })
    await expect(call(devops, 'eXP_ProduceSigma', create(SigmaInputSchema))).rejects.toMatchObject({ code: status.UNIMPLEMENTED, details: expect.stringMatching(/EXP_ProduceSigma is not implemented: it needs membership services/) })
  })

  it('Peer.ProcessTransaction executes a transaction built by the client', async () => {
    const p = client(Peer)
    const tx = newExecuteTransaction(invocation('mycc', ['invoke', 'b', 'a', '5']), 'client-tx-1', Transaction_Type.CHAINCODE_INVOKE)
    const resp = await call<Response>(p, 'processTransaction', tx)
    expect([resp.status, fromUtf8(resp.msg)]).toEqual([Response_StatusCode.SUCCESS, 'client-tx-1'])
    await peer.flush()
    expect((await peer.ledger.getTransactionByID('client-tx-1'))?.txid).toBe('client-tx-1')
    const q = newExecuteTransaction(invocation('mycc', ['query', 'a']), 'client-q-1', Transaction_Type.CHAINCODE_QUERY)
    const qr = await call<Response>(p, 'processTransaction', q)
    expect([qr.status, fromUtf8(qr.msg)]).toEqual([Response_StatusCode.SUCCESS, '95'])
    const refused = await call<Response>(p, 'processTransaction', newExecuteTransaction(invocation('mycc', ['query', 'zz']), 'q2', Transaction_Type.CHAINCODE_QUERY))
    expect([refused.status, fromUtf8(refused.msg)]).toEqual([Response_StatusCode.FAILURE, '{"Error":"Nil amount for zz"}'])
    // No Chat handler was given to this server.
    await expect(new Promise((resolve, reject) => {
      const chat = (p as unknown as { chat: () => ClientDuplexStream<unknown, unknown> }).chat()
      chat.on('error', reject)
      chat.on('data', resolve)
    })).rejects.toMatchObject({ code: status.UNIMPLEMENTED })
  })
})

describe('bad input', () => {
  const garbage = Buffer.from([0x0a, 0x05, 0x01]) // a length-delimited field cut short
  const raw = (path: string, stream = false) => {
    const Ctor = makeClientConstructor({
      m: {
        path,
        requestStream: stream,
        responseStream: stream,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b
      }
    }, 'raw')
    const c = new Ctor(path.startsWith('/protos.Events/') ? events.address : main.address, credentials.createInsecure())
    clients.push(c)
    return c as unknown as { m: ((req: Buffer, cb: (e: ServiceError | null) => void) => void) & (() => ClientDuplexStream<Buffer, Buffer>) }
  }

  it('answers malformed protobuf on every unary method with INVALID_ARGUMENT, and serves on', async () => {
    const height = peer.ledger.height
    const unaryPaths = [
      ...[Devops, Openchain, Admin].flatMap(s => s.methods.map(m => `/${s.typeName}/${m.name}`)),
      '/protos.Peer/ProcessTransaction'
    ]
    expect(unaryPaths).toContain('/protos.Devops/Invoke')
    for (const path of unaryPaths) {
      const err = await new Promise<ServiceError | null>(resolve => { raw(path).m(garbage, e => { resolve(e) }) })
      expect([path, err?.code, err?.details]).toEqual([path, status.INVALID_ARGUMENT, expect.stringMatching(new RegExp(`^malformed request to ${path.replace(/\./g, '\\.')}: `))])
    }
    await peer.flush()
    expect(peer.ledger.height).toBe(height)
    expect((await call<ServerStatus>(client(Admin), 'getStatus', empty)).status).toBe(ServerStatus_StatusCode.STARTED)
  })

  it('ends an Events stream carrying a malformed frame with INVALID_ARGUMENT and drops its interests', async () => {
    const ev = eventClient()
    ev.stream.write(create(EventSchema, { Event: { case: 'register', value: { events: [interest(EventType.BLOCK)] } } }))
    await waitFor('the ack', () => ev.got.length === 1 && peer.hub.consumerCount === 1)
    const s = raw('/protos.Events/Chat', true).m()
    const outcome = new Promise<ServiceError>(resolve => { s.on('error', resolve); s.on('data', () => {}) })
    s.write(garbage)
    expect(await outcome).toMatchObject({ code: status.INVALID_ARGUMENT })
    ev.stream.write(create(EventSchema, { Event: { case: 'block', value: {} } }))
    await waitFor('the end of the stream', () => ev.ended() !== null)
    expect(ev.ended()).toMatchObject({ code: status.UNKNOWN, details: expect.stringMatching(/invalid event type from client: block/) })
    await waitFor('the consumer to be dropped', () => peer.hub.consumerCount === 0)
    // The hub serves on.
    const again = eventClient()
    again.stream.write(create(EventSchema))
    await waitFor('the echo of an empty event', () => again.got.length === 1)
    again.stream.end()
  })
})

describe('Admin', () => {
  it('reports STARTED, and StopServer stops the peer and answers STOPPED', async () => {
    const admin = client(Admin)
    expect((await call<ServerStatus>(admin, 'getStatus', empty)).status).toBe(ServerStatus_StatusCode.STARTED)
    expect((await call<ServerStatus>(admin, 'startServer', empty)).status).toBe(ServerStatus_StatusCode.STARTED)
    expect((await call<ServerStatus>(admin, 'stopServer', empty)).status).toBe(ServerStatus_StatusCode.STOPPED)
    expect(peer.stopped).toBe(true)
    expect((await call<ServerStatus>(admin, 'getStatus', empty)).status).toBe(ServerStatus_StatusCode.STOPPED)
  })
})
