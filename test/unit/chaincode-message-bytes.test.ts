// The hand-written ChaincodeMessage marshaling of the chaincode gRPC stream gives toBinary's bytes
// for every shape a message can take: fields absent or empty, negative and 64-bit numbers, long
// payloads, text that is not ASCII, chaincode events, unknown fields.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { marshalChaincodeMessage } from '../../src/chaincode/message-bytes.ts'
import { toBase64 } from '../../src/crypto/bytes.ts'
import { ChaincodeMessageSchema, type ChaincodeMessage } from '../../src/protos/chaincode_pb.ts'
import { seededRandom } from '../../src/util/scheduler.ts'

const rnd = seededRandom(23)
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + Math.floor(rnd() * 256)) & 0xff)
const timestamp = (): { seconds: bigint, nanos: number } | undefined =>
  pick([undefined, { seconds: 0n, nanos: 0 }, { seconds: pick([1n, 1733390000n, -5n, 2n ** 40n, -(2n ** 63n)]), nanos: pick([0, 1, 999_999_999, -1, 128]) }])

function randomMessage (): ChaincodeMessage {
  return create(ChaincodeMessageSchema, {
    type: pick([0, 5, 8, 13, 20, 127, 128, 70_000, 2 ** 22, -1]),
    timestamp: timestamp(),
    payload: bytes(pick([0, 1, 127, 128, 300, 17_000])),
    txid: pick(['', 'a1b2c3d4-e5f6-4789-a0b1-c2d3e4f5a6b7', 'x'.repeat(200), 'tx-é', 'b\u{1F600}']),
    securityContext: pick([undefined, {}, {
      callerCert: bytes(pick([0, 400])),
      callerSign: bytes(pick([0, 71])),
      payload: bytes(pick([0, 20, 200])),
      binding: bytes(pick([0, 32])),
      metadata: bytes(pick([0, 3])),
      parentMetadata: bytes(pick([0, 3])),
      txTimestamp: timestamp()
    }]),
    chaincodeEvent: pick([undefined, undefined, { chaincodeID: 'mycc', txID: 't', eventName: 'e', payload: bytes(4) }])
  })
}

describe('ChaincodeMessage bytes', () => {
  it('are toBinary\'s', () => {
    for (let i = 0; i < 500; i++) {
      const m = randomMessage()
      expect(toBase64(marshalChaincodeMessage(m))).toBe(toBase64(toBinary(ChaincodeMessageSchema, m)))
    }
  })

  it('keep unknown fields as toBinary does', () => {
    // GET_STATE with an unknown field 15 (varint 1), and a security context with an unknown field 9.
    const wire = new Uint8Array([0x08, 0x08, 0x1a, 0x01, 0x61, 0x78, 0x01, 0x2a, 0x02, 0x48, 0x05])
    const m = fromBinary(ChaincodeMessageSchema, wire)
    expect([m.$unknown?.length, m.securityContext?.$unknown?.length]).toEqual([1, 1])
    expect(marshalChaincodeMessage(m)).toEqual(toBinary(ChaincodeMessageSchema, m))
  })
})
