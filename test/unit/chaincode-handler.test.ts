// The peer's chaincode handler at the message level: a test plays the chaincode on raw streams.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { afterEach, describe, expect, it } from 'vitest'
import * as example02 from '../../examples/chaincode/example02.ts'
import { executeTransaction } from '../../src/chaincode/executor.ts'
import { ccMessage, MsgType } from '../../src/chaincode/messages.ts'
import { chaincodeStreamPair, type ChaincodeStream } from '../../src/chaincode/stream.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import {
  ChaincodeIDSchema, ChaincodeInputSchema, PutStateInfoSchema, RangeQueryStateNextSchema, type ChaincodeMessage
} from '../../src/protos/chaincode_pb.ts'
import { GoShimEmulator } from '../interop/go-shim.ts'
import { VirtualScheduler } from '../sim/scheduler.ts'
import { devDeploy, invoke, newLedger, query, runBatch, stateOf } from './chaincode-helpers.ts'

const supports: ChaincodeSupport[] = []
afterEach(async () => { for (const s of supports.splice(0)) await s.stopAll() })

async function devSupport (opts: Partial<ConstructorParameters<typeof ChaincodeSupport>[0]> = {}): Promise<ChaincodeSupport> {
  const s = new ChaincodeSupport({ ledger: await newLedger(), userRunsChaincode: true, ...opts })
  supports.push(s)
  return s
}

/** Connects a raw chaincode side and registers it under `name`. */
async function rawChaincode (support: ChaincodeSupport, name: string): Promise<{ cc: ChaincodeStream, served: Promise<void> }> {
  const pair = chaincodeStreamPair()
  const served = support.handleStream(pair.peer)
  await pair.chaincode.send(ccMessage(MsgType.REGISTER, { payload: toBinary(ChaincodeIDSchema, create(ChaincodeIDSchema, { name })) }))
  expect((await pair.chaincode.recv())?.type).toBe(MsgType.REGISTERED)
  return { cc: pair.chaincode, served }
}

const next = async (cc: ChaincodeStream): Promise<ChaincodeMessage> => {
  const m = await cc.recv()
  if (m === undefined) throw new Error('stream ended')
  return m
}

describe('Go shim protocol over an in-memory stream', () => {
  it('serves REGISTER → INIT → TRANSACTION → QUERY exactly as the Go shim expects', async () => {
    const support = await devSupport()
    const pair = chaincodeStreamPair()
    void support.handleStream(pair.peer)
    const shim = new GoShimEmulator(pair.chaincode, example02)
    const chat = shim.chatWithPeer('mycc')
    await new Promise<void>(resolve => { const off = support.onRegister(() => { off(); resolve() }) })
    await runBatch(support, [devDeploy('mycc', ['init', 'a', '100', 'b', '200']), invoke('mycc', ['invoke', 'a', 'b', '10'], 'T1')])
    const r = await executeTransaction({ support }, query('mycc', ['query', 'b'], 'Q1'))
    expect(fromUtf8(r.result!)).toBe('210')
    expect(shim.failure).toBeUndefined()
    expect(shim.received.map(m => [MsgType[m.type], m.txid])).toEqual([
      ['REGISTERED', ''],
      ['INIT', 'mycc'], ['RESPONSE', 'mycc'], ['RESPONSE', 'mycc'],
      ['TRANSACTION', 'T1'], ['RESPONSE', 'T1'], ['RESPONSE', 'T1'], ['RESPONSE', 'T1'], ['RESPONSE', 'T1'],
      ['QUERY', 'Q1'], ['RESPONSE', 'Q1']
    ])
    expect(shim.sent.map(m => MsgType[m.type])).toEqual([
      'REGISTER', 'PUT_STATE', 'PUT_STATE', 'COMPLETED',
      'GET_STATE', 'GET_STATE', 'PUT_STATE', 'PUT_STATE', 'COMPLETED', 'GET_STATE', 'QUERY_COMPLETED'
    ])
    await support.stopAll()
    await chat
  })
})

describe('peer handler rules', () => {
  it('ends a stream whose REGISTER does not decode', async () => {
    const support = await devSupport()
    const pair = chaincodeStreamPair()
    const served = support.handleStream(pair.peer)
    await pair.chaincode.send(ccMessage(MsgType.REGISTER, { payload: new Uint8Array([0x0a, 0x05, 0x61]) }))
    await expect(pair.chaincode.recv()).rejects.toThrow(/could NOT unmarshal registration info/)
    await served
    expect(support.registered()).toEqual([])
  })

  it('refuses a second chaincode with a registered name', async () => {
    const support = await devSupport()
    await rawChaincode(support, 'mycc')
    const pair = chaincodeStreamPair()
    void support.handleStream(pair.peer)
    await pair.chaincode.send(ccMessage(MsgType.REGISTER, { payload: toBinary(ChaincodeIDSchema, create(ChaincodeIDSchema, { name: 'mycc' })) }))
    await expect(pair.chaincode.recv()).rejects.toThrow('Duplicate chaincodeID error: name:"mycc" ')
    expect(support.registered()).toEqual(['mycc'])
  })

  it('refuses a write sent during a query, and keeps serving', async () => {
    const support = await devSupport()
    const { cc } = await rawChaincode(support, 'raw')
    // Deploy with no args: READY, no INIT to answer.
    await runBatch(support, [devDeploy('raw', [])])
    expect((await next(cc)).type).toBe(MsgType.READY)
    const pending = executeTransaction({ support }, query('raw', ['q'], 'Q'))
    const q = await next(cc)
    expect([q.type, q.txid]).toEqual([MsgType.QUERY, 'Q'])
    expect(fromBinary(ChaincodeInputSchema, q.securityContext!.payload).args.map(fromUtf8)).toEqual(['q'])
    await cc.send(ccMessage(MsgType.PUT_STATE, { txid: 'Q', payload: toBinary(PutStateInfoSchema, create(PutStateInfoSchema, { key: 'k', value: utf8('v') })) }))
    const refusal = await next(cc)
    expect([refusal.type, fromUtf8(refusal.payload)]).toEqual([MsgType.ERROR, '[Q]Cannot handle PUT_STATE in query context'])
    await cc.send(ccMessage(MsgType.QUERY_COMPLETED, { txid: 'Q', payload: utf8('fine') }))
    expect(fromUtf8((await pending).result!)).toBe('fine')
    expect(await stateOf(support.ledger, 'raw', 'k')).toBeUndefined()
  })

  it('answers bad requests with ERROR: malformed payload, unknown iterator', async () => {
    const support = await devSupport()
    const { cc } = await rawChaincode(support, 'raw')
    await runBatch(support, [devDeploy('raw', [])])
    await next(cc)
    const ledger = support.ledger
    ledger.beginTxBatch('b')
    const pending = executeTransaction({ support }, invoke('raw', ['x'], 'T'))
    expect((await next(cc)).type).toBe(MsgType.TRANSACTION)
    await cc.send(ccMessage(MsgType.PUT_STATE, { txid: 'T', payload: new Uint8Array([0xff]) }))
    const bad = await next(cc)
    expect(bad.type).toBe(MsgType.ERROR)
    expect(fromUtf8(bad.payload)).toMatch(/malformed protos.PutStateInfo payload/)
    await cc.send(ccMessage(MsgType.RANGE_QUERY_STATE_NEXT, { txid: 'T', payload: toBinary(RangeQueryStateNextSchema, create(RangeQueryStateNextSchema, { ID: 'nope' })) }))
    expect(fromUtf8((await next(cc)).payload)).toBe('Range query iterator not found')
    await cc.send(ccMessage(MsgType.COMPLETED, { txid: 'T' }))
    expect((await pending).error).toBeUndefined()
    ledger.rollbackTxBatch('b')
  })

  it('ends the stream on a message its state cannot take', async () => {
    const support = await devSupport()
    const { cc, served } = await rawChaincode(support, 'raw')
    await cc.send(ccMessage(MsgType.COMPLETED, { txid: 'nobody' }))
    await expect(cc.recv()).rejects.toThrow('[nobody]Chaincode handler validator FSM cannot handle message (COMPLETED) with payload size (0) while in state: established')
    await served
    expect(support.registered()).toEqual([])
  })

  it('fails a transaction at once when its chaincode goes away', async () => {
    const support = await devSupport()
    const { cc } = await rawChaincode(support, 'raw')
    await runBatch(support, [devDeploy('raw', [])])
    await next(cc)
    support.ledger.beginTxBatch('b')
    const pending = executeTransaction({ support }, invoke('raw', ['x'], 'T'))
    await next(cc)
    await cc.close(new Error('process died'))
    expect((await pending).error?.message).toMatch(/^Transaction or query returned with failure: chaincode raw is gone/)
    support.ledger.rollbackTxBatch('b')
  })

  it('times out a transaction the chaincode never answers, and hangs up on it', async () => {
    const scheduler = new VirtualScheduler()
    const support = await devSupport({ scheduler, executeTimeout: 5000 })
    const { cc } = await rawChaincode(support, 'raw')
    await runBatch(support, [devDeploy('raw', [])])
    await next(cc)
    support.ledger.beginTxBatch('b')
    const pending = executeTransaction({ support }, invoke('raw', ['x'], 'T'))
    await next(cc)
    scheduler.advance(4999)
    scheduler.advance(1)
    expect((await pending).error?.message).toBe('Failed to execute transaction or query(Timeout expired while executing transaction)')
    await expect(cc.recv()).rejects.toThrow(/did not answer TRANSACTION T within 5000 ms/)
    expect(support.registered()).toEqual([])
    support.ledger.rollbackTxBatch('b')
  })

  it('sends KEEPALIVE after chaincode.keepalive of silence and ignores the echo', async () => {
    const scheduler = new VirtualScheduler()
    const support = await devSupport({ scheduler, keepalive: 1000 })
    const { cc } = await rawChaincode(support, 'raw')
    scheduler.advance(1000)
    const ka = await next(cc)
    expect([ka.type, ka.txid, ka.payload.length]).toEqual([MsgType.KEEPALIVE, '', 0])
    await cc.send(ka)
    await runBatch(support, [devDeploy('raw', [])])
    expect((await next(cc)).type).toBe(MsgType.READY)
  })
})
