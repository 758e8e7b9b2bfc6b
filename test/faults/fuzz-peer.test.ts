// Seeded fuzzing of a running Node peer (serve(), noops, example02 deployed) as an outside client
// sees it: REST, every unary gRPC method, Peer.Chat over gRPC and libp2p, and Events.Chat. Each
// case is a mutation of a valid request. Whatever comes in: no 5xx, no stack trace in an answer,
// no hang, and afterwards the peer still commits and answers as before.
import { join } from 'node:path'
import { create, toBinary, type DescService } from '@bufbuild/protobuf'
import { status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import { createNodeLibp2p } from '../../node/libp2p/create-node.ts'
import type { RunningPeer } from '../../node/peer/serve.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import { timestampAt } from '../../src/ledger/block.ts'
import { helloMessage, getPeersMessage, syncGetBlocksMessage } from '../../src/peer/messages.ts'
import { BlockNumberSchema, Openchain } from '../../src/protos/api_pb.ts'
import { ChaincodeInvocationSpecSchema, ChaincodeSpecSchema, ChaincodeSpec_Type } from '../../src/protos/chaincode_pb.ts'
import { Devops, SecretSchema } from '../../src/protos/devops_pb.ts'
import { EventSchema, EventType } from '../../src/protos/events_pb.ts'
import { BlockchainInfoSchema, MessageSchema, Peer, PeerEndpointSchema, PeerEndpoint_Type, TransactionSchema, Transaction_Type, type Message } from '../../src/protos/fabric_pb.ts'
import { Admin } from '../../src/protos/server_admin_pb.ts'
import { CHAT_PROTOCOL } from '../../src/transport/libp2p-chat.ts'
import { varint } from '../../src/transport/frame.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { inProcessPeer, type InProcessPeer } from '../integration/in-process-peer.ts'
import { rawClient } from '../interop/raw-client.ts'
import { CASES, mutate, pick, rng, STACK } from './fuzz-kit.ts'

let running: InProcessPeer | undefined
let peer: RunningPeer
let name: string

const spec = (args: string[]) => create(ChaincodeSpecSchema, { type: ChaincodeSpec_Type.NODE, chaincodeID: { name }, ctorMsg: { args: args.map(utf8) } })
const invocation = (args: string[]) => create(ChaincodeInvocationSpecSchema, { chaincodeSpec: spec(args) })

async function rest (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number, text: string, type: string | null }> {
  const res = await fetch(`${peer.restUrl}${path}`, { method, body, headers, signal: AbortSignal.timeout(10_000) })
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') }
}

async function balance (key: string): Promise<string> {
  const r = await rest('POST', '/chaincode', JSON.stringify({ jsonrpc: '2.0', method: 'query', params: { type: 2, chaincodeID: { name }, ctorMsg: { args: ['query', key] } }, id: 1 }))
  return (JSON.parse(r.text) as { result: { message: string } }).result.message
}

/** The peer is as it was: it answers, commits a waited invoke, and keeps a + b = 300. */
async function healthy (): Promise<void> {
  expect((await rest('GET', '/chain')).status).toBe(200)
  const r = await rest('POST', '/chaincode', JSON.stringify({ jsonrpc: '2.0', method: 'invoke', params: { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '1'] } }, id: 1, wait: '20s' }))
  expect(JSON.parse(r.text).result?.status).toBe('OK')
  expect(Number(await balance('a')) + Number(await balance('b'))).toBe(300)
}

beforeAll(async () => {
  setLogLevel('silent')
  running = await inProcessPeer({ peer: { id: 'vp0' }, noops: { block: { wait: 50 } } })
  peer = running.peer
  const r = await rest('POST', '/chaincode', JSON.stringify({ jsonrpc: '2.0', method: 'deploy', params: { type: 2, chaincodeID: { path: join(EXAMPLES_ROOT, 'example02.ts') }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] } }, id: 1, wait: '30s' }))
  name = JSON.parse(r.text).result.message
}, 60_000)
afterAll(async () => {
  await running?.close()
  setLogLevel('info')
})

describe(`fuzzing the peer (${CASES} cases per surface)`, () => {
  it('REST: no 5xx, JSON answers, no stack traces', async () => {
    const r = rng(1)
    const bodies = [
      JSON.stringify({ jsonrpc: '2.0', method: 'invoke', params: { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '1'] } }, id: 1 }),
      JSON.stringify({ jsonrpc: '2.0', method: 'query', params: { type: 2, chaincodeID: { name }, ctorMsg: { function: 'query', args: ['a'] } }, id: 'x' }),
      JSON.stringify({ jsonrpc: '2.0', method: 'deploy', params: { type: 2, chaincodeID: { path: '/etc/passwd' }, ctorMsg: { args: ['init'] } }, id: 2 }),
      JSON.stringify({ enrollId: 'jim', enrollSecret: 'x' })
    ]
    const paths = ['/chain', '/chain/', '/chain/blocks/0', '/chain/blocks/1', '/chain/blocks/-1', '/chain/blocks/99999999999999999999', '/chaincode',
      '/transactions/x', `/transactions/${name}`, '/network/peers', '/registrar', '/registrar/jim', '/registrar/jim/ecert', '/registrar/jim/tcert?count=3', '/%zz', '/a/../chain']
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD']
    for (let i = 0; i < CASES; i++) {
      const method = pick(r, methods)
      const body = method === 'GET' || method === 'HEAD' ? undefined : Buffer.from(mutate(r, utf8(pick(r, bodies)))).toString('latin1')
      const headers: Record<string, string> = r.chance(0.3) ? { 'content-type': pick(r, ['', 'text/plain', ';;', 'application/json; charset=x']) } : {}
      let path = pick(r, paths)
      if (r.chance(0.2)) path = path + Buffer.from(mutate(r, utf8('/x'))).toString('hex')
      const a = await rest(method, path, body, headers)
      expect(a.status, `${method} ${path}`).toBeLessThan(500)
      expect(a.text).not.toMatch(STACK)
      if (method !== 'HEAD' && a.text !== '' && a.text !== '400 Bad Request') expect(() => JSON.parse(a.text), `${method} ${path}: ${a.text}`).not.toThrow()
    }
    await healthy()
  }, 600_000)

  it('gRPC: every unary method answers every mutated request with a status, never a crash', async () => {
    const r = rng(2)
    const seeds: Record<string, Uint8Array> = {
      [ChaincodeSpecSchema.typeName]: toBinary(ChaincodeSpecSchema, spec(['init', 'a', '1'])),
      [ChaincodeInvocationSpecSchema.typeName]: toBinary(ChaincodeInvocationSpecSchema, invocation(['invoke', 'a', 'b', '1'])),
      [BlockNumberSchema.typeName]: toBinary(BlockNumberSchema, create(BlockNumberSchema, { number: 1n })),
      [SecretSchema.typeName]: toBinary(SecretSchema, create(SecretSchema, { enrollId: 'jim', enrollSecret: 'x' })),
      [TransactionSchema.typeName]: toBinary(TransactionSchema, create(TransactionSchema, { type: Transaction_Type.CHAINCODE_INVOKE, txid: 'fuzz', payload: toBinary(ChaincodeInvocationSpecSchema, invocation(['invoke', 'a', 'b', '1'])) }))
    }
    const services: DescService[] = [Devops, Openchain, Admin, Peer]
    const methods = services.flatMap(s => s.methods.filter(m => m.methodKind === 'unary' && m.name !== 'StopServer').map(m => ({ path: `/${s.typeName}/${m.name}`, input: m.input.typeName })))
    const clients = new Map(methods.map(m => [m.path, rawClient(peer.grpc.address, m.path, false)]))
    try {
      for (let i = 0; i < CASES; i++) {
        const m = methods[i % methods.length]
        const bytes = mutate(r, seeds[m.input] ?? new Uint8Array(0))
        const outcome = await new Promise<{ code: number, details: string }>(resolve => {
          (clients.get(m.path) as unknown as { call: (b: Buffer, o: { deadline: number }, cb: (err: ServiceError | null) => void) => void })
            .call(Buffer.from(bytes), { deadline: Date.now() + 10_000 }, err => { resolve({ code: err?.code ?? status.OK, details: err?.details ?? '' }) })
        })
        expect(outcome.code, `${m.path}: ${outcome.details}`).not.toBe(status.DEADLINE_EXCEEDED)
        expect(outcome.code, `${m.path}: ${outcome.details}`).not.toBe(status.UNAVAILABLE)
        expect(outcome.details).not.toMatch(STACK)
      }
    } finally {
      for (const c of clients.values()) c.close()
    }
    await healthy()
  }, 600_000)

  const hello = (id: string): Message => helloMessage(
    create(PeerEndpointSchema, { ID: { name: id }, address: '127.0.0.1:1', type: PeerEndpoint_Type.NON_VALIDATOR }),
    create(BlockchainInfoSchema, { height: 1n }), timestampAt(0))
  const chatSeeds = (): Uint8Array[] => [hello('fuzzer'), getPeersMessage(), syncGetBlocksMessage(1n, 0n, 3n),
    create(MessageSchema, { type: 21, payload: new Uint8Array(8) }), create(MessageSchema, { type: 6, payload: new Uint8Array(4) })].map(m => toBinary(MessageSchema, m))

  it('Chat over gRPC: mutated messages on many streams, the peer keeps serving', async () => {
    const r = rng(3)
    const client = rawClient(peer.grpc.address, '/protos.Peer/Chat', true)
    const seeds = chatSeeds()
    try {
      for (let done = 0, s = 0; done < CASES; s++) {
        const call = (client as unknown as { call: () => ClientDuplexStream<Buffer, Buffer> }).call()
        call.on('data', () => {})
        const ended = new Promise<void>(resolve => { call.on('error', () => resolve()); call.on('end', () => resolve()); call.on('close', () => resolve()) })
        // Half the streams say a proper HELLO first, to reach the established state.
        if (s % 2 === 0) call.write(Buffer.from(toBinary(MessageSchema, hello(`fuzzer${s}`))))
        for (let k = 0; k < 25 && done < CASES; k++, done++) call.write(Buffer.from(mutate(r, pick(r, seeds))))
        call.end()
        await Promise.race([ended, new Promise(resolve => setTimeout(resolve, 200))])
        call.cancel()
      }
    } finally {
      client.close()
    }
    await healthy()
  }, 600_000)

  it('Chat over libp2p: mutated frames (and broken length prefixes), the peer keeps serving', async () => {
    const r = rng(4)
    const node = await createNodeLibp2p({ listen: [] })
    const seeds = chatSeeds()
    try {
      const target = multiaddr(peer.multiaddrs.find(m => m.includes('/127.0.0.1/'))!)
      for (let done = 0, s = 0; done < CASES; s++) {
        const stream = await node.dialProtocol(target, CHAT_PROTOCOL)
        const raw = lpStream(stream)
        try {
          if (s % 2 === 0) await raw.write(toBinary(MessageSchema, hello(`p2pfuzzer${s}`)))
          for (let k = 0; k < 25 && done < CASES; k++, done++) {
            const bytes = mutate(r, pick(r, seeds))
            // Now and then a raw write whose length prefix lies.
            if (r.chance(0.05)) stream.send(Uint8Array.from([...varint(bytes.length + r.int(1000)), ...bytes]))
            else await raw.write(bytes)
          }
        } catch { /* the peer may hang up on a broken frame: that is its right */ }
        await stream.close().catch(() => stream.abort(new Error('done')))
      }
    } finally {
      await node.stop()
    }
    await healthy()
  }, 600_000)

  it('Events: mutated registrations, the peer keeps serving and still acknowledges a good one', async () => {
    const r = rng(5)
    const client = rawClient(peer.events.address, '/protos.Events/Chat', true)
    const good = toBinary(EventSchema, create(EventSchema, { Event: { case: 'register', value: { events: [{ eventType: EventType.BLOCK }, { eventType: EventType.CHAINCODE, RegInfo: { case: 'chaincodeRegInfo', value: { chaincodeID: name, eventName: '' } } }] } } }))
    try {
      for (let done = 0; done < CASES;) {
        const call = (client as unknown as { call: () => ClientDuplexStream<Buffer, Buffer> }).call()
        call.on('data', () => {})
        const ended = new Promise<void>(resolve => { call.on('error', () => resolve()); call.on('end', () => resolve()) })
        for (let k = 0; k < 20 && done < CASES; k++, done++) call.write(Buffer.from(mutate(r, good)))
        call.end()
        await Promise.race([ended, new Promise(resolve => setTimeout(resolve, 200))])
        call.cancel()
      }
      const call = (client as unknown as { call: () => ClientDuplexStream<Buffer, Buffer> }).call()
      const ack = new Promise<Buffer>(resolve => { call.once('data', resolve) })
      call.on('error', () => {})
      call.write(Buffer.from(good))
      expect(Buffer.compare(await ack, Buffer.from(good))).toBe(0)
      call.cancel()
    } finally {
      client.close()
    }
    await healthy()
  }, 600_000)
})
