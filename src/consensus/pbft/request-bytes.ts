// pbft.request and pbft.request_batch marshaled by hand, byte for byte what protobuf's toBinary
// gives: every replica hashes every request it receives (and again as part of the batch that
// orders it), and the generic encoder's reflection cost more than the hash itself.
import { toBinary } from '@bufbuild/protobuf'
import { request_batchSchema, requestSchema } from '../../protos/pbft_pb.ts'
import { varintSize, writeVarint } from '../../util/varint.ts'
import type { Request, RequestBatch } from './messages.ts'

const LEN = 2

/** The bytes toBinary(requestSchema, req) gives. */
export function marshalRequest (req: Request): Uint8Array {
  const ts = req.timestamp
  // Unknown fields keep their order among the known ones only in the generic encoder.
  if (req.$unknown !== undefined || ts?.$unknown !== undefined) return toBinary(requestSchema, req)
  const tsLen = ts === undefined ? 0 : (ts.seconds === 0n ? 0 : 1 + varint64Size(ts.seconds)) + (ts.nanos === 0 ? 0 : 1 + int32Size(ts.nanos))
  const size = (ts === undefined ? 0 : 1 + varintSize(tsLen) + tsLen) +
    lenFieldSize(req.payload.length) + (req.replicaId === 0n ? 0 : 1 + varint64Size(req.replicaId)) + lenFieldSize(req.signature.length)
  const out = new Uint8Array(size)
  let pos = 0
  if (ts !== undefined) {
    out[pos++] = 1 << 3 | LEN
    pos = writeVarint(out, pos, tsLen)
    if (ts.seconds !== 0n) { out[pos++] = 1 << 3; pos = writeVarint64(out, pos, ts.seconds) }
    if (ts.nanos !== 0) { out[pos++] = 2 << 3; pos = writeInt32(out, pos, ts.nanos) }
  }
  pos = writeBytesField(out, pos, 2, req.payload)
  if (req.replicaId !== 0n) { out[pos++] = 3 << 3; pos = writeVarint64(out, pos, req.replicaId) }
  pos = writeBytesField(out, pos, 4, req.signature)
  return out
}

/** The bytes toBinary(request_batchSchema, batch) gives, from its requests' bytes. */
export function marshalRequestBatch (batch: RequestBatch, requests: Uint8Array[]): Uint8Array {
  if (batch.$unknown !== undefined) return toBinary(request_batchSchema, batch)
  let size = 0
  for (const r of requests) size += 1 + varintSize(r.length) + r.length
  const out = new Uint8Array(size)
  let pos = 0
  for (const r of requests) {
    out[pos++] = 1 << 3 | LEN
    pos = writeVarint(out, pos, r.length)
    out.set(r, pos)
    pos += r.length
  }
  return out
}

function lenFieldSize (n: number): number { return n === 0 ? 0 : 1 + varintSize(n) + n }

function writeBytesField (out: Uint8Array, pos: number, field: number, b: Uint8Array): number {
  if (b.length === 0) return pos
  out[pos++] = field << 3 | LEN
  pos = writeVarint(out, pos, b.length)
  out.set(b, pos)
  return pos + b.length
}

/** An int32 field: a negative value is sign-extended to ten bytes, as protobuf encodes it. */
function int32Size (n: number): number { return n < 0 ? 10 : varintSize(n) }

function writeInt32 (out: Uint8Array, pos: number, n: number): number {
  return n < 0 ? writeVarint64(out, pos, BigInt(n)) : writeVarint(out, pos, n)
}

/** uint64 / int64 as protobuf writes them: two's complement in 64 bits. */
function varint64Size (v: bigint): number {
  let x = BigInt.asUintN(64, v)
  if (x < 0x100000000n) return varintSize(Number(x))
  let size = 1
  while (x >= 0x80n) { x >>= 7n; size++ }
  return size
}

function writeVarint64 (out: Uint8Array, pos: number, v: bigint): number {
  let x = BigInt.asUintN(64, v)
  if (x < 0x100000000n) return writeVarint(out, pos, Number(x))
  while (x >= 0x80n) { out[pos++] = Number(x & 0x7fn) | 0x80; x >>= 7n }
  out[pos++] = Number(x)
  return pos
}
