// Protobuf's varints and the fields built on them, written straight into a buffer sized
// beforehand: the bucket tree and PBFT's request digests encode thousands of small values a block,
// and a growing writer costs more than the bytes (also src/chaincode/message-bytes.ts).
import type { Timestamp } from '@bufbuild/protobuf/wkt'

export function varintSize (n: number): number {
  let size = 1
  while (n >= 0x80) { n = Math.floor(n / 128); size++ }
  return size
}

/** Writes `n` at `offset`; returns the offset after it. */
export function writeVarint (out: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  out[offset++] = n
  return offset
}

/** Protobuf's wire type of length-delimited fields (bytes, strings, messages). */
export const LEN = 2

/** Size of a bytes field as protobuf writes it: nothing when empty. */
export function lenFieldSize (n: number): number { return n === 0 ? 0 : 1 + varintSize(n) + n }

/** A bytes field (numbers 1-15), left out when empty, as protobuf does. */
export function writeBytesField (out: Uint8Array, pos: number, field: number, b: Uint8Array): number {
  if (b.length === 0) return pos
  out[pos++] = field << 3 | LEN
  pos = writeVarint(out, pos, b.length)
  out.set(b, pos)
  return pos + b.length
}

/** An int32 field: a negative value is sign-extended to ten bytes, as protobuf encodes it. */
export function int32Size (n: number): number { return n < 0 ? 10 : varintSize(n) }

export function writeInt32 (out: Uint8Array, pos: number, n: number): number {
  return n < 0 ? writeVarint64(out, pos, BigInt(n)) : writeVarint(out, pos, n)
}

/** uint64 / int64 as protobuf writes them: two's complement in 64 bits. */
export function varint64Size (v: bigint): number {
  let x = BigInt.asUintN(64, v)
  if (x < 0x100000000n) return varintSize(Number(x))
  let size = 1
  while (x >= 0x80n) { x >>= 7n; size++ }
  return size
}

export function writeVarint64 (out: Uint8Array, pos: number, v: bigint): number {
  let x = BigInt.asUintN(64, v)
  if (x < 0x100000000n) return writeVarint(out, pos, Number(x))
  while (x >= 0x80n) { out[pos++] = Number(x & 0x7fn) | 0x80; x >>= 7n }
  out[pos++] = Number(x)
  return pos
}

/** The length of a google.protobuf.Timestamp's body (without unknown fields). */
export function timestampBodySize (ts: Timestamp): number {
  return (ts.seconds === 0n ? 0 : 1 + varint64Size(ts.seconds)) + (ts.nanos === 0 ? 0 : 1 + int32Size(ts.nanos))
}

/** A Timestamp field: tag, the body's length (timestampBodySize), the body. */
export function writeTimestampField (out: Uint8Array, pos: number, field: number, ts: Timestamp, bodySize: number): number {
  out[pos++] = field << 3 | LEN
  pos = writeVarint(out, pos, bodySize)
  if (ts.seconds !== 0n) { out[pos++] = 1 << 3; pos = writeVarint64(out, pos, ts.seconds) }
  if (ts.nanos !== 0) { out[pos++] = 2 << 3; pos = writeInt32(out, pos, ts.nanos) }
  return pos
}
