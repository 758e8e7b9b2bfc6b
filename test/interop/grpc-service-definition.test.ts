// The generic protobuf-es ⇄ grpc-js helper, on a unary service (Openchain) as other services will use it.
import { create } from '@bufbuild/protobuf'
import { EmptySchema } from '@bufbuild/protobuf/wkt'
import { credentials, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawClient } from './raw-client.ts'
import { addService, clientConstructor, serviceDefinition } from '../../node/grpc/service-definition.ts'
import { BlockCountSchema, BlockNumberSchema, Openchain, type BlockCount } from '../../src/protos/api_pb.ts'
import { BlockSchema, type Block } from '../../src/protos/fabric_pb.ts'

let server: Server
let address: string

beforeAll(async () => {
  server = new Server()
  addService(server, Openchain, {
    getBlockCount: (_call: unknown, cb: (e: null, r: BlockCount) => void) => { cb(null, create(BlockCountSchema, { count: 42n })) },
    getBlockByNumber: (call: { request: { number: bigint } }, cb: (e: { code: number, details: string } | null, r?: Block) => void) => {
      if (call.request.number > 1n) { cb({ code: status.NOT_FOUND, details: 'openchain: resource not found' }); return }
      cb(null, create(BlockSchema, { consensusMetadata: new Uint8Array([Number(call.request.number)]) }))
    }
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => { if (err !== null) reject(err); else resolve(p) })
  })
  address = `127.0.0.1:${port}`
})
afterAll(async () => { await new Promise<void>(resolve => { server.tryShutdown(() => { resolve() }) }) })

type Unary = (req: unknown, cb: (err: ServiceError | null, res: unknown) => void) => void
const call = async <T>(client: object, method: string, req: unknown): Promise<T> =>
  await new Promise<T>((resolve, reject) => { (client as Record<string, Unary>)[method].call(client, req, (e, r) => { if (e !== null) reject(e); else resolve(r as T) }) })

describe('protobuf-es services on grpc-js', () => {
  it('names methods /protos.<Service>/<Method>', () => {
    const def = serviceDefinition(Openchain)
    expect(Object.fromEntries(Object.entries(def).map(([k, m]) => [k, m.path]))).toEqual({
      getBlockchainInfo: '/protos.Openchain/GetBlockchainInfo',
      getBlockByNumber: '/protos.Openchain/GetBlockByNumber',
      getBlockCount: '/protos.Openchain/GetBlockCount',
      getPeers: '/protos.Openchain/GetPeers'
    })
  })

  it('serves and calls with protobuf-es messages; handler errors and missing handlers keep their status', async () => {
    const Client = clientConstructor(Openchain)
    const client = new Client(address, credentials.createInsecure())
    expect((await call<BlockCount>(client, 'getBlockCount', create(EmptySchema))).count).toBe(42n)
    expect((await call<Block>(client, 'getBlockByNumber', create(BlockNumberSchema, { number: 1n }))).consensusMetadata).toEqual(new Uint8Array([1]))
    await expect(call(client, 'getBlockByNumber', create(BlockNumberSchema, { number: 9n }))).rejects.toMatchObject({ code: status.NOT_FOUND })
    await expect(call(client, 'getPeers', create(EmptySchema))).rejects.toMatchObject({ code: status.UNIMPLEMENTED })
    client.close()
  })

  it('answers a request that does not decode with INVALID_ARGUMENT', async () => {
    const client = rawClient(address, '/protos.Openchain/GetBlockByNumber', false)
    // Field 1 as a varint that never ends.
    await expect(call(client, 'call', Buffer.from([0x08, 0xff, 0xff]))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^malformed request to \/protos.Openchain\/GetBlockByNumber: /)
    })
    // …and keeps serving.
    const Good = clientConstructor(Openchain)
    const good = new Good(address, credentials.createInsecure())
    expect((await call<BlockCount>(good, 'getBlockCount', create(EmptySchema))).count).toBe(42n)
    client.close()
    good.close()
  })
})
