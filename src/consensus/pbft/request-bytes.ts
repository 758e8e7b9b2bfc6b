// pbft.request and pbft.request_batch marshaled by hand, byte for byte what protobuf's toBinary
// gives: every replica hashes every request it receives (and again as part of the batch that
// orders it), and the generic encoder's reflection cost more than the hash itself.
import { toBinary } from '@bufbuild/protobuf'
import { request_batchSchema, requestSchema } from '../../protos/pbft_pb.ts'
import { LEN, lenFieldSize, timestampBodySize, varintSize, varint64Size, writeBytesField, writeTimestampField, writeVarint, writeVarint64 } from '../../util/varint.ts'
import type { Request, RequestBatch } from './messages.ts'

/** The bytes toBinary(requestSchema, req) gives. */
export function marshalRequest (req: Request): Uint8Array {
  const ts = req.timestamp
  // Unknown fields keep their order among the known ones only in the generic encoder.
  if (req.$unknown !== undefined || ts?.$unknown !== undefined) return toBinary(requestSchema, req)
  const tsLen = ts === undefined ? 0 : timestampBodySize(ts)
  const size = (ts === undefined ? 0 : 1 + varintSize(tsLen) + tsLen) +
    lenFieldSize(req.payload.length) + (req.replicaId === 0n ? 0 : 1 + varint64Size(req.replicaId)) + lenFieldSize(req.signature.length)
  const out = new Uint8Array(size)
  let pos = 0
  if (ts !== undefined) pos = writeTimestampField(out, pos, 1, ts, tsLen)
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
