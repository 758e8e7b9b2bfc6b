import { create, equals, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { cacheFieldsOf, setCacheFields } from '../../src/chaincode/cache-fields.ts'
import { ccMessage, errorMessage, MsgType } from '../../src/chaincode/messages.ts'
import { ChaincodeMessageSchema } from '../../src/protos/chaincode_pb.ts'

describe('ccMessage', () => {
  it('makes the message create() makes, field for field and byte for byte', () => {
    const inits = [
      {},
      { txid: 'tx1' },
      { txid: 'tx2', payload: new Uint8Array([1, 2, 3]) },
      { txid: 'tx3', securityContext: { payload: new Uint8Array([9]) } },
      { txid: 'tx4', chaincodeEvent: { eventName: 'e', payload: new Uint8Array([4]) } },
      { timestamp: { seconds: 5n, nanos: 6 } }
    ]
    for (const init of inits) {
      for (const type of [MsgType.TRANSACTION, MsgType.GET_STATE, MsgType.UNDEFINED]) {
        const made = ccMessage(type, init)
        const expected = create(ChaincodeMessageSchema, { ...init, type })
        expect(made).toStrictEqual(expected)
        expect(equals(ChaincodeMessageSchema, made, expected)).toBe(true)
        expect(toBinary(ChaincodeMessageSchema, made)).toEqual(toBinary(ChaincodeMessageSchema, expected))
      }
    }
    expect(errorMessage('t', 'boom')).toStrictEqual(create(ChaincodeMessageSchema, { type: MsgType.ERROR, txid: 't', payload: new TextEncoder().encode('boom') }))
  })
})

describe('the cache fields of a ChaincodeMessage', () => {
  it('travel as field 15001, a message of the session and the writes, and read back', () => {
    const msg = ccMessage(MsgType.COMPLETED, { txid: 't' })
    setCacheFields(msg, { session: 3, writes: [['k', new Uint8Array([0x76])], ['d', null]] })
    // 08 03: session 3; 12 06 (0a 01 'k' 12 01 'v'): a write; 12 03 (0a 01 'd'): a delete.
    const field = [0x0f, 0x08, 0x03, 0x12, 0x06, 0x0a, 0x01, 0x6b, 0x12, 0x01, 0x76, 0x12, 0x03, 0x0a, 0x01, 0x64]
    expect(msg.$unknown).toEqual([{ no: 15_001, wireType: 2, data: new Uint8Array(field) }])
    expect(cacheFieldsOf(msg)).toEqual({ session: 3, writes: [['k', new Uint8Array([0x76])], ['d', null]] })
    const wire = toBinary(ChaincodeMessageSchema, msg)
    expect(Array.from(wire.slice(-field.length - 3))).toEqual([0xca, 0xa9, 0x07, ...field])
  })

  it('refuse a write that runs past its message', () => {
    const msg = ccMessage(MsgType.COMPLETED)
    msg.$unknown = [{ no: 15_001, wireType: 2, data: new Uint8Array([0x06, 0x08, 0x01, 0x12, 0x05, 0x0a, 0x01, 0x6b]) }]
    expect(() => cacheFieldsOf(msg)).toThrow()
  })
})
