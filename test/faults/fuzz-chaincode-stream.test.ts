// Seeded fuzzing of the chaincode stream (what a dev-mode Register call or a worker sends the
// peer): chaincodes that answer each TRANSACTION with mutated ChaincodeMessages. Every batch
// still ends (a failed transaction at worst), nothing of a failed one is committed, and a
// well-behaved chaincode works afterwards.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { afterAll, describe, expect, it, vi } from 'vitest'
import * as example02 from '../../examples/chaincode/example02.ts'
import { registerInProcessChaincode } from '../../src/chaincode/in-process-runtime.ts'
import { asChaincode } from '../../src/chaincode/shim/chaincode.ts'
import { chaincodeStreamPair } from '../../src/chaincode/stream.ts'
import { ChaincodeSupport } from '../../src/chaincode/support.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import {
  ChaincodeIDSchema, ChaincodeMessageSchema, ChaincodeMessage_Type as T, PutStateInfoSchema, RangeQueryStateSchema, type ChaincodeMessage
} from '../../src/protos/chaincode_pb.ts'
import { devDeploy, invoke, newLedger, runBatch, stateOf } from '../unit/chaincode-helpers.ts'
import { CASES, mutate, pick, rng } from './fuzz-kit.ts'

const supports: ChaincodeSupport[] = []
// Every chaincode that is asked to run a transaction before it is ready says so, by design.
const quiet = vi.spyOn(console, 'error').mockImplementation(() => {})
afterAll(() => { quiet.mockRestore() })
afterAll(async () => { for (const s of supports) await s.stopAll() })

function seedsFor (txid: string): ChaincodeMessage[] {
  const m = (type: T, payload: Uint8Array = new Uint8Array(0)): ChaincodeMessage => create(ChaincodeMessageSchema, { type, txid, payload })
  return [
    m(T.PUT_STATE, toBinary(PutStateInfoSchema, create(PutStateInfoSchema, { key: 'k', value: utf8('v') }))),
    m(T.GET_STATE, utf8('k')),
    m(T.DEL_STATE, utf8('k')),
    m(T.RANGE_QUERY_STATE, toBinary(RangeQueryStateSchema, create(RangeQueryStateSchema, { startKey: 'a', endKey: 'z' }))),
    m(T.RANGE_QUERY_STATE_NEXT, utf8('1')),
    m(T.INVOKE_CHAINCODE, utf8('x')),
    m(T.COMPLETED, utf8('done')),
    m(T.ERROR, utf8('no')),
    m(T.KEEPALIVE),
    m(T.REGISTER, toBinary(ChaincodeIDSchema, create(ChaincodeIDSchema, { name: 'other' })))
  ]
}

describe(`fuzzing the chaincode stream (${CASES} cases)`, () => {
  it('survives chaincodes that answer with mutated messages', async () => {
    const r = rng(6)
    const ledger = await newLedger()
    const support = new ChaincodeSupport({ ledger, userRunsChaincode: true, executeTimeout: 40 })
    supports.push(support)
    let sent = 0
    for (let c = 0; sent < CASES; c++) {
      const name = `fz${c}`
      const pair = chaincodeStreamPair({ chaincode: name })
      let stopListening = (): void => {}
      const registered = new Promise<void>(resolve => { stopListening = support.onRegister(n => { if (n === name) resolve() }) })
      const served = support.handleStream(pair.peer).catch(() => {})
      await pair.chaincode.send(create(ChaincodeMessageSchema, { type: T.REGISTER, payload: toBinary(ChaincodeIDSchema, create(ChaincodeIDSchema, { name })) }))
      // The fuzzing chaincode: after REGISTERED, answer whatever comes with a few mutated messages.
      const answering = (async () => {
        for (;;) {
          const msg = await pair.chaincode.recv().catch(() => undefined)
          if (msg === undefined) return
          if (msg.type === T.REGISTERED) continue
          for (let k = 0, n = 1 + r.int(4); k < n && sent < CASES; k++, sent++) {
            let out: ChaincodeMessage
            try { out = fromBinary(ChaincodeMessageSchema, mutate(r, toBinary(ChaincodeMessageSchema, pick(r, seedsFor(msg.txid))))) } catch { continue }
            await pair.chaincode.send(out).catch(() => {})
          }
        }
      })()
      await registered
      stopListening()
      const before = sent
      const run = await runBatch(support, [devDeploy(name, ['init']), invoke(name, ['x']), invoke(name, ['y'])])
      expect(sent, 'the chaincode was asked something').toBeGreaterThan(before)
      expect(run.errors).toHaveLength(3)
      await pair.chaincode.close()
      await Promise.all([served, answering])
    }
    // Writes of failed transactions never reach the state; a proper chaincode still works.
    const ok = await registerInProcessChaincode(support, 'mycc', asChaincode(example02))
    const run = await runBatch(support, [devDeploy('mycc', ['init', 'a', '100', 'b', '200']), invoke('mycc', ['invoke', 'a', 'b', '5'])])
    expect(run.errors).toEqual([undefined, undefined])
    expect(await stateOf(support.ledger, 'mycc', 'b')).toBe('205')
    await ok.stop()
  }, 600_000)
})
