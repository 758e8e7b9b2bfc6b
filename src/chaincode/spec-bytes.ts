// ChaincodeID and ChaincodeInvocationSpec marshaled by hand, byte for byte what protobuf's
// toBinary gives: every invoke and query a client sends is built into a Transaction this way,
// and the generic encoder's reflection and growing buffer cost more than the few bytes. The
// executor then reads the spec back from the payload without decoding it (invocationSpecOf).
import { toBinary } from '@bufbuild/protobuf'
import { isAscii, utf8Length, writeUtf8 } from '../crypto/bytes.ts'
import { ChaincodeIDSchema, ChaincodeInvocationSpecSchema, type ChaincodeID, type ChaincodeInput, type ChaincodeInvocationSpec, type ChaincodeSpec } from '../protos/chaincode_pb.ts'
import { int32Size, LEN, lenFieldSize, varintSize, writeBytesField, writeInt32, writeVarint } from '../util/varint.ts'
import { decodePayload } from './messages.ts'

/** The bytes toBinary(ChaincodeIDSchema, id) gives. */
export function marshalChaincodeID (id: ChaincodeID): Uint8Array {
  if (id.$unknown !== undefined) return toBinary(ChaincodeIDSchema, id)
  const out = new Uint8Array(chaincodeIDSize(id))
  writeChaincodeID(out, 0, id)
  return out
}

/**
 * Each payload marshalInvocationSpec made from a spec whose strings are all ASCII, and that spec:
 * decoding the payload gives it back exactly (a string with an unpaired surrogate would not come
 * back as it went, and unknown fields are left to toBinary and fromBinary).
 */
const specs = new WeakMap<Uint8Array, ChaincodeInvocationSpec>()

/**
 * The invocation spec in a transaction's payload: the spec it was made from when it was made
 * here, else decoded. The executor reads it for every invoke and query (up to three times for an
 * invoke sent ahead); callers must not change it, and a payload's bytes are never changed in place
 * (a changed payload is a new array, as encryption makes).
 */
export function invocationSpecOf (payload: Uint8Array): ChaincodeInvocationSpec {
  return specs.get(payload) ?? decodePayload(ChaincodeInvocationSpecSchema, payload)
}

/** The bytes toBinary(ChaincodeInvocationSpecSchema, cis) gives. */
export function marshalInvocationSpec (cis: ChaincodeInvocationSpec): Uint8Array {
  const spec = cis.chaincodeSpec
  // Unknown fields keep their order among the known ones only in the generic encoder, which also
  // refuses a number out of int32's range.
  if (cis.$unknown !== undefined || (spec !== undefined && !plainSpec(spec))) return toBinary(ChaincodeInvocationSpecSchema, cis)
  const specLen = spec === undefined ? 0 : specSize(spec)
  const out = new Uint8Array((spec === undefined ? 0 : messageFieldSize(specLen)) + stringFieldSize(cis.idGenerationAlg))
  let pos = 0
  if (spec !== undefined) {
    out[pos++] = 1 << 3 | LEN
    pos = writeVarint(out, pos, specLen)
    pos = writeSpec(out, pos, spec)
  }
  writeStringField(out, pos, 2, cis.idGenerationAlg)
  if (isAscii(cis.idGenerationAlg) && (spec === undefined || asciiStrings(spec))) specs.set(out, cis)
  return out
}

function plainSpec (spec: ChaincodeSpec): boolean {
  return spec.$unknown === undefined && spec.chaincodeID?.$unknown === undefined && spec.ctorMsg?.$unknown === undefined &&
    isInt32(spec.type) && isInt32(spec.timeout) && isInt32(spec.confidentialityLevel)
}

const isInt32 = (n: number): boolean => (n | 0) === n && !Object.is(n, -0)

function asciiStrings (spec: ChaincodeSpec): boolean {
  return isAscii(spec.chaincodeID?.path ?? '') && isAscii(spec.chaincodeID?.name ?? '') && isAscii(spec.secureContext) && spec.attributes.every(isAscii)
}

function chaincodeIDSize (id: ChaincodeID): number {
  return stringFieldSize(id.path) + stringFieldSize(id.name)
}

function writeChaincodeID (out: Uint8Array, pos: number, id: ChaincodeID): number {
  pos = writeStringField(out, pos, 1, id.path)
  return writeStringField(out, pos, 2, id.name)
}

function inputSize (input: ChaincodeInput): number {
  let size = 0
  for (const a of input.args) size += 1 + varintSize(a.length) + a.length
  return size
}

function specSize (spec: ChaincodeSpec): number {
  let size = int32FieldSize(spec.type) + int32FieldSize(spec.timeout) + stringFieldSize(spec.secureContext) +
    int32FieldSize(spec.confidentialityLevel) + lenFieldSize(spec.metadata.length)
  if (spec.chaincodeID !== undefined) size += messageFieldSize(chaincodeIDSize(spec.chaincodeID))
  if (spec.ctorMsg !== undefined) size += messageFieldSize(inputSize(spec.ctorMsg))
  for (const a of spec.attributes) { const n = utf8Length(a); size += 1 + varintSize(n) + n }
  return size
}

function writeSpec (out: Uint8Array, pos: number, spec: ChaincodeSpec): number {
  pos = writeInt32Field(out, pos, 1, spec.type)
  if (spec.chaincodeID !== undefined) {
    out[pos++] = 2 << 3 | LEN
    pos = writeVarint(out, pos, chaincodeIDSize(spec.chaincodeID))
    pos = writeChaincodeID(out, pos, spec.chaincodeID)
  }
  if (spec.ctorMsg !== undefined) {
    out[pos++] = 3 << 3 | LEN
    pos = writeVarint(out, pos, inputSize(spec.ctorMsg))
    for (const a of spec.ctorMsg.args) pos = writeBytes(out, pos, 1, a)
  }
  pos = writeInt32Field(out, pos, 4, spec.timeout)
  pos = writeStringField(out, pos, 5, spec.secureContext)
  pos = writeInt32Field(out, pos, 6, spec.confidentialityLevel)
  pos = writeBytesField(out, pos, 7, spec.metadata)
  for (const a of spec.attributes) {
    out[pos++] = 8 << 3 | LEN
    pos = writeVarint(out, pos, utf8Length(a))
    pos = writeUtf8(out, pos, a)
  }
  return pos
}

const messageFieldSize = (n: number): number => 1 + varintSize(n) + n

function stringFieldSize (s: string): number {
  if (s === '') return 0
  const n = utf8Length(s)
  return 1 + varintSize(n) + n
}

function writeStringField (out: Uint8Array, pos: number, field: number, s: string): number {
  if (s === '') return pos
  out[pos++] = field << 3 | LEN
  pos = writeVarint(out, pos, utf8Length(s))
  return writeUtf8(out, pos, s)
}

/** A repeated element is written even when empty. */
function writeBytes (out: Uint8Array, pos: number, field: number, b: Uint8Array): number {
  out[pos++] = field << 3 | LEN
  pos = writeVarint(out, pos, b.length)
  out.set(b, pos)
  return pos + b.length
}

/** An int32 or enum field, left out when 0. */
function int32FieldSize (n: number): number {
  return n === 0 ? 0 : 1 + int32Size(n)
}

function writeInt32Field (out: Uint8Array, pos: number, field: number, n: number): number {
  if (n === 0) return pos
  out[pos++] = field << 3
  return writeInt32(out, pos, n)
}
