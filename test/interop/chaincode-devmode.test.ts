// Dev mode over real gRPC: a Go-shim-exact client registers on protos.ChaincodeSupport/Register
// served by a Weft peer, is deployed by name, and runs INIT / TRANSACTION / QUERY.
import { create, fromBinary } from '@bufbuild/protobuf'
import { credentials, Server, ServerCredentials, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawClient } from './raw-client.ts'
import * as example02 from '../../examples/chaincode/example02.ts'
import { runExternalChaincode } from '../../node/chaincode/external.ts'
import { addChaincodeSupportService } from '../../node/grpc/chaincode-support-service.ts'
import { callStream, clientConstructor } from '../../node/grpc/service-definition.ts'
import { executeQuery } from '../../src/chaincode/executor.ts'
import { MsgType } from '../../src/chaincode/messages.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import {
  ChaincodeIDSchema, ChaincodeInputSchema, ChaincodeSupport as ChaincodeSupportService, PutStateInfoSchema, type ChaincodeMessage
} from '../../src/protos/chaincode_pb.ts'
import { devDeploy, invoke, newLedger, query, runBatch, stateOf, at } from '../unit/chaincode-helpers.ts'
import { GoShimEmulator } from './go-shim.ts'

let server: Server
let address: string
let support: ChaincodeSupport

beforeAll(async () => {
  support = new ChaincodeSupport({ ledger: await newLedger(), userRunsChaincode: true })
  server = new Server()
  addChaincodeSupportService(server, stream => support.handleStream(stream))
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => { if (err !== null) reject(err); else resolve(p) })
  })
  address = `127.0.0.1:${port}`
})

afterAll(async () => {
  await support.stopAll()
  await new Promise<void>(resolve => { server.tryShutdown(() => { resolve() }) })
})

/** What `CORE_PEER_ADDRESS=… CORE_CHAINCODE_ID_NAME=mycc ./chaincode_example02` does: dial and Register. */
function dialRegister (): { call: ClientDuplexStream<ChaincodeMessage, ChaincodeMessage>, close: () => void } {
  const Client = clientConstructor(ChaincodeSupportService)
  const client = new Client(address, credentials.createInsecure())
  const call = (client as unknown as { register: () => ClientDuplexStream<ChaincodeMessage, ChaincodeMessage> }).register()
  return { call, close: () => { client.close() } }
}

async function registered (name: string): Promise<void> {
  if (support.registered().includes(name)) return
  await new Promise<void>(resolve => { const off = support.onRegister(n => { if (n === name) { off(); resolve() } }) })
}

describe('dev mode: Fabric\'s Go shim against the Weft peer over gRPC', () => {
  it('REGISTER → REGISTERED → INIT → PUT_STATE → COMPLETED → TRANSACTION → GET/PUT_STATE → COMPLETED → QUERY', async () => {
    const { call, close } = dialRegister()
    const stream = callStream<ChaincodeMessage, ChaincodeMessage>(call, 'client', address)
    const shim = new GoShimEmulator(stream, example02)
    const chat = shim.chatWithPeer('mycc')
    await registered('mycc')

    const deploy = devDeploy('mycc', ['init', 'a', '100', 'b', '200'])
    const tx = invoke('mycc', ['invoke', 'a', 'b', '10'], '0f0b7b90-5168-4dd6-b930-c2bbd05eec3e')
    const run = await runBatch(support, [deploy, tx])
    expect(run.errors).toEqual([undefined, undefined])
    expect(run.committed.block.transactions.map(t => t.txid)).toEqual(['mycc', tx.txid])
    expect(await stateOf(support.ledger, 'mycc', 'a')).toBe('90')
    expect(await stateOf(support.ledger, 'mycc', 'b')).toBe('210')
    expect(fromUtf8(await executeQuery({ support }, query('mycc', ['query', 'a'], 'q1')))).toBe('90')

    const sent = shim.sent
    const got = shim.received
    // The shim's first message: REGISTER with its ChaincodeID, no txid.
    expect(sent[0].type).toBe(MsgType.REGISTER)
    expect(fromBinary(ChaincodeIDSchema, sent[0].payload)).toEqual(create(ChaincodeIDSchema, { name: 'mycc' }))
    // REGISTERED carries nothing.
    expect([got[0].type, got[0].txid, got[0].payload.length]).toEqual([MsgType.REGISTERED, '', 0])
    // INIT: txid = deploy txid = the name; args in the payload and in the security context the shim reads.
    const init = got[1]
    expect([init.type, init.txid]).toEqual([MsgType.INIT, 'mycc'])
    expect(fromBinary(ChaincodeInputSchema, init.payload).args.map(fromUtf8)).toEqual(['init', 'a', '100', 'b', '200'])
    expect(fromBinary(ChaincodeInputSchema, init.securityContext!.payload).args.map(fromUtf8)).toEqual(['init', 'a', '100', 'b', '200'])
    expect(init.securityContext!.txTimestamp).toEqual(at)
    const put = fromBinary(PutStateInfoSchema, sent[1].payload)
    expect([MsgType[sent[1].type], sent[1].txid, put.key, fromUtf8(put.value)]).toEqual(['PUT_STATE', 'mycc', 'a', '100'])
    expect([MsgType[got[2].type], got[2].txid, got[2].payload.length]).toEqual(['RESPONSE', 'mycc', 0])
    expect([MsgType[sent[3].type], sent[3].txid]).toEqual(['COMPLETED', 'mycc'])
    // TRANSACTION: GET_STATE answered with the value, PUT_STATE with an empty RESPONSE.
    const t = got[4]
    expect([MsgType[t.type], t.txid]).toEqual(['TRANSACTION', tx.txid])
    expect(fromBinary(ChaincodeInputSchema, t.securityContext!.payload).args.map(fromUtf8)).toEqual(['invoke', 'a', 'b', '10'])
    expect([MsgType[sent[4].type], fromUtf8(sent[4].payload)]).toEqual(['GET_STATE', 'a'])
    expect([MsgType[got[5].type], fromUtf8(got[5].payload)]).toEqual(['RESPONSE', '100'])
    expect([MsgType[got[6].type], fromUtf8(got[6].payload)]).toEqual(['RESPONSE', '200'])
    expect(sent.slice(4, 9).map(m => MsgType[m.type])).toEqual(['GET_STATE', 'GET_STATE', 'PUT_STATE', 'PUT_STATE', 'COMPLETED'])
    expect([MsgType[got[9].type], got[9].txid, MsgType[sent.at(-1)!.type], fromUtf8(sent.at(-1)!.payload)]).toEqual(['QUERY', 'q1', 'QUERY_COMPLETED', '90'])
    expect(shim.failure).toBeUndefined()

    // CloseSend: the peer sees EOF, deregisters the chaincode and ends the call with OK.
    await stream.close()
    await chat
    expect(shim.failure).toBeUndefined()
    expect(support.registered()).not.toContain('mycc')
    close()
  })

  it('weft chaincode run: a JS chaincode registers over gRPC, serves deploy, invoke and query, and ends with the stream', async () => {
    // A peer of its own: this test stops it.
    const support = new ChaincodeSupport({ ledger: await newLedger(), userRunsChaincode: true })
    const server = new Server()
    addChaincodeSupportService(server, stream => support.handleStream(stream))
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => { if (err !== null) reject(err); else resolve(p) })
    })
    let heard!: () => void
    const registeredHeard = new Promise<void>(resolve => { heard = resolve })
    const served = runExternalChaincode({ address: `127.0.0.1:${port}`, name: 'jscc', chaincode: example02, creds: credentials.createInsecure(), onRegistered: heard })
    await registeredHeard
    expect(support.registered()).toEqual(['jscc'])
    const tx = invoke('jscc', ['invoke', 'a', 'b', '7'])
    const run = await runBatch(support, [devDeploy('jscc', ['init', 'a', '50', 'b', '5']), tx])
    expect(run.errors).toEqual([undefined, undefined])
    expect(await stateOf(support.ledger, 'jscc', 'b')).toBe('12')
    expect(fromUtf8(await executeQuery({ support }, query('jscc', ['query', 'a'])))).toBe('43')
    // The chaincode's own error text reaches the transaction, as the Go shim's does.
    const bad = await runBatch(support, [invoke('jscc', ['invoke', 'a', 'b'])])
    expect(bad.errors[0]?.message).toBe('Transaction or query returned with failure: Incorrect number of arguments. Expecting 3')
    // The peer going away ends the chaincode with the peer's reason, as the Go shim's Start returns it.
    await support.stopAll()
    await expect(served).rejects.toThrow('peer is stopping')
    server.forceShutdown()
  })

  it('weft chaincode run: an unreachable peer is one clear error', async () => {
    await expect(runExternalChaincode({ address: '127.0.0.1:1', name: 'x', chaincode: example02, creds: credentials.createInsecure() }))
      .rejects.toThrow(/^Error trying to connect to local peer: /)
  })

  it('answers undecodable bytes with INVALID_ARGUMENT and keeps serving', async () => {
    const client = rawClient(address, '/protos.ChaincodeSupport/Register', true)
    const call = (client as unknown as { call: () => ClientDuplexStream<Buffer, Buffer> }).call()
    const failed = new Promise<ServiceError>(resolve => { call.on('error', resolve) })
    call.on('data', () => {})
    call.write(Buffer.from([0x08, 0x01, 0x1a, 0x7f]))
    const err = await failed
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(err.details).toMatch(/malformed request to \/protos.ChaincodeSupport\/Register/)
    client.close()

    // The peer is fine: another chaincode registers and works.
    const { call: call2, close } = dialRegister()
    const stream = callStream<ChaincodeMessage, ChaincodeMessage>(call2, 'client', address)
    const chat = new GoShimEmulator(stream, example02).chatWithPeer('other')
    await registered('other')
    const run = await runBatch(support, [devDeploy('other', ['init', 'x', '1', 'y', '2'])])
    expect(run.errors).toEqual([undefined])
    await stream.close()
    await chat
    close()
  })

  it('refuses a second registration of a name with an error status', async () => {
    const first = dialRegister()
    const streamA = callStream<ChaincodeMessage, ChaincodeMessage>(first.call, 'client', address)
    const chatA = new GoShimEmulator(streamA, example02).chatWithPeer('dup')
    await registered('dup')
    const second = dialRegister()
    const ended = new Promise<ServiceError>(resolve => { second.call.on('error', resolve) })
    const b = new GoShimEmulator(callStream(second.call, 'client', address), example02)
    await b.chatWithPeer('dup')
    const err = await ended
    // grpc-go's answer to a handler returning a plain error: UNKNOWN with its text.
    expect([err.code, err.details]).toEqual([status.UNKNOWN, 'Duplicate chaincodeID error: name:"dup" '])
    expect(b.failure).toContain('Duplicate chaincodeID error')
    expect(support.registered()).toContain('dup')
    await streamA.close()
    await chatA
    first.close()
    second.close()
  })
})
