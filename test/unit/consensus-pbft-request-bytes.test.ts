// The hand-written request marshaling gives toBinary's bytes for every shape a request can take:
// fields absent or zero, negative and 64-bit numbers, long payloads, unknown fields.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import { marshalRequest, marshalRequestBatch } from '../../src/consensus/pbft/request-bytes.ts'
import { toBase64 } from '../../src/crypto/bytes.ts'
import { request_batchSchema, requestSchema, type request } from '../../src/protos/pbft_pb.ts'
import { seededRandom } from '../../src/util/scheduler.ts'

const rnd = seededRandom(17)
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]
// Compared as base64: toEqual walks large byte arrays element by element.
const b64 = toBase64
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + Math.floor(rnd() * 256)) & 0xff)

function randomRequest (): request {
  return create(requestSchema, {
    timestamp: pick([undefined, {}, { seconds: pick([0n, 1n, 1733390000n, -5n, 2n ** 40n, -(2n ** 63n), 2n ** 63n - 1n]), nanos: pick([0, 1, 999_999_999, -1, 127, 128]) }]),
    payload: bytes(pick([0, 1, 127, 128, 300, 17_000])),
    replicaId: pick([0n, 1n, 15n, 127n, 128n, 2n ** 32n, 2n ** 64n - 1n]),
    signature: bytes(pick([0, 32, 71]))
  })
}

describe('PBFT request marshaling', () => {
  it('gives toBinary\'s bytes for requests and batches', () => {
    for (let i = 0; i < 200; i++) {
      const reqs = Array.from({ length: pick([0, 1, 3]) }, randomRequest)
      for (const r of reqs) expect(b64(marshalRequest(r))).toBe(b64(toBinary(requestSchema, r)))
      const batch = create(request_batchSchema, { batch: reqs })
      expect(b64(marshalRequestBatch(batch, reqs.map(marshalRequest)))).toBe(b64(toBinary(request_batchSchema, batch)))
    }
  })

  it('keeps unknown fields as toBinary does', () => {
    // A request with an unknown field 9 (varint 5) and a timestamp with an unknown field 7.
    const wire = new Uint8Array([0x0a, 0x04, 0x08, 0x01, 0x38, 0x02, 0x12, 0x01, 0xaa, 0x48, 0x05, 0x18, 0x03])
    const r = fromBinary(requestSchema, wire)
    expect([r.$unknown?.length, r.timestamp?.$unknown?.length]).toEqual([1, 1])
    expect(marshalRequest(r)).toEqual(toBinary(requestSchema, r))
    const batch = fromBinary(request_batchSchema, new Uint8Array([0x0a, wire.length, ...wire, 0x10, 0x01]))
    expect(marshalRequestBatch(batch, batch.batch.map(marshalRequest))).toEqual(toBinary(request_batchSchema, batch))
  })
})
