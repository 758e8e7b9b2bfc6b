import { create, equals, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
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
