// The hand-written ChaincodeID and ChaincodeInvocationSpec marshaling gives toBinary's bytes for
// every shape a spec can take: fields absent, empty or zero, negative enums and timeouts, non-ASCII
// and unpaired-surrogate strings, long arguments, unknown fields.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { invocationSpecOf, marshalChaincodeID, marshalInvocationSpec } from '../../src/chaincode/spec-bytes.ts'
import { toBase64 } from '../../src/crypto/bytes.ts'
import { ChaincodeIDSchema, ChaincodeInvocationSpecSchema, type ChaincodeInvocationSpec } from '../../src/protos/chaincode_pb.ts'
import { seededRandom } from '../../src/util/scheduler.ts'

const rnd = seededRandom(23)
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256))
const text = (): string => pick(['', 'a', 'mycc', 'é', 'naïve-名前', '\ud83d\ude00', 'lone\ud800', '\udc00x', 'x'.repeat(200), 'ü'.repeat(70)])

function randomSpec (): ChaincodeInvocationSpec {
  return create(ChaincodeInvocationSpecSchema, {
    chaincodeSpec: pick([undefined, {}, {
      type: pick([0, 1, 2, 4, 99, -1]),
      chaincodeID: pick([undefined, {}, { path: text(), name: text() }]),
      ctorMsg: pick([undefined, {}, { args: Array.from({ length: pick([0, 1, 4]) }, () => bytes(pick([0, 1, 9, 127, 128, 20_000]))) }]),
      timeout: pick([0, 1, 500, 2 ** 31 - 1, -1, -(2 ** 31)]),
      secureContext: text(),
      confidentialityLevel: pick([0, 1, -7]),
      metadata: bytes(pick([0, 3, 300])),
      attributes: Array.from({ length: pick([0, 2]) }, text)
    }]),
    idGenerationAlg: pick(['', 'sha256base64', text()])
  })
}

describe('ChaincodeInvocationSpec marshaling', () => {
  it('gives toBinary\'s bytes for specs and chaincode ids', () => {
    for (let i = 0; i < 500; i++) {
      const cis = randomSpec()
      expect(toBase64(marshalInvocationSpec(cis))).toBe(toBase64(toBinary(ChaincodeInvocationSpecSchema, cis)))
      const id = cis.chaincodeSpec?.chaincodeID
      if (id !== undefined) expect(toBase64(marshalChaincodeID(id))).toBe(toBase64(toBinary(ChaincodeIDSchema, id)))
    }
  })

  it('reads a spec back from its payload as fromBinary does, and a spec nobody marshaled here by decoding it', () => {
    // toEqual walks byte arrays element by element: fewer specs than above.
    for (let i = 0; i < 150; i++) {
      const cis = randomSpec()
      const payload = marshalInvocationSpec(cis)
      expect(invocationSpecOf(payload)).toEqual(fromBinary(ChaincodeInvocationSpecSchema, payload))
      const copy = payload.slice()
      expect(invocationSpecOf(copy)).toEqual(fromBinary(ChaincodeInvocationSpecSchema, copy))
    }
    expect(() => invocationSpecOf(new Uint8Array([0x0a, 0x05]))).toThrow(/malformed protos.ChaincodeInvocationSpec payload/)
  })

  it('leaves numbers out of int32\'s range to toBinary, which refuses them', () => {
    const cis = create(ChaincodeInvocationSpecSchema, { chaincodeSpec: { type: 1, timeout: 2 ** 31 } })
    expect(() => marshalInvocationSpec(cis)).toThrow()
  })

  it('keeps unknown fields as toBinary does', () => {
    // A spec with an unknown field 9 (varint 5) inside a chaincode id with an unknown field 3, then the spec's unknown field 12.
    const id = [0x12, 0x01, 0x63, 0x18, 0x01]
    const spec = [0x08, 0x01, 0x12, id.length, ...id, 0x48, 0x05]
    const cis = fromBinary(ChaincodeInvocationSpecSchema, new Uint8Array([0x0a, spec.length, ...spec, 0x60, 0x02]))
    expect([cis.$unknown?.length, cis.chaincodeSpec?.$unknown?.length, cis.chaincodeSpec?.chaincodeID?.$unknown?.length]).toEqual([1, 1, 1])
    expect(marshalInvocationSpec(cis)).toEqual(toBinary(ChaincodeInvocationSpecSchema, cis))
    expect(marshalChaincodeID(cis.chaincodeSpec!.chaincodeID!)).toEqual(toBinary(ChaincodeIDSchema, cis.chaincodeSpec!.chaincodeID!))
  })
})
