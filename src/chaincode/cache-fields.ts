// Weft-only fields of a ChaincodeMessage, exchanged only between the peer and a chaincode runtime
// of its own (worker thread, Web Worker, in-process), never on a Register stream a chaincode
// dialled: Fabric's Go shim would not know them. They let the chaincode answer its reads from a
// cache of its own namespace and send its writes with its answer, so an invoke costs one
// exchange instead of one per GET_STATE / PUT_STATE / DEL_STATE (src/chaincode/README.md).
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire'
import type { ChaincodeMessage } from '../protos/chaincode_pb.ts'

/** A write of the chaincode: its key and new value (null = deleted). */
export type StateWrite = [key: string, value: Uint8Array | null]

export interface CacheFields {
  /**
   * On TRANSACTION: the cache session the chaincode's cached reads belong to. A different
   * session than its cache's drops the cache; 0 means none (every read asks the peer).
   */
  session: number
  /** On COMPLETED / ERROR of a transaction: its writes not yet sent, in the order made. */
  writes: StateWrite[]
}

/** A field number Fabric's ChaincodeMessage does not use; protobuf keeps it as an unknown field. */
const FIELD = 15_001

/** Puts `fields` on `msg` (replacing any). */
export function setCacheFields (msg: ChaincodeMessage, fields: CacheFields): void {
  // The field's bytes as protobuf keeps an unknown one: its length, then its content.
  const w = new BinaryWriter().fork()
  w.tag(1, WireType.Varint).uint32(fields.session)
  for (const [key, value] of fields.writes) {
    w.tag(2, WireType.LengthDelimited).fork()
    w.tag(1, WireType.LengthDelimited).string(key)
    if (value !== null) w.tag(2, WireType.LengthDelimited).bytes(value)
    w.join()
  }
  const data = w.join().finish()
  msg.$unknown = [...(msg.$unknown ?? []).filter(u => u.no !== FIELD), { no: FIELD, wireType: WireType.LengthDelimited, data }]
}

/** The fields `msg` carries, if any. */
export function cacheFieldsOf (msg: ChaincodeMessage): CacheFields | undefined {
  const u = msg.$unknown?.find(f => f.no === FIELD && f.wireType === WireType.LengthDelimited)
  if (u === undefined) return undefined
  // One reader for all of it: a reader per nested message costs more than what it reads.
  const r = new BinaryReader(u.data)
  const end = r.uint32() + r.pos
  const fields: CacheFields = { session: 0, writes: [] }
  while (r.pos < end) {
    const [no, type] = r.tag()
    if (no === 1 && type === WireType.Varint) fields.session = r.uint32()
    else if (no === 2 && type === WireType.LengthDelimited) fields.writes.push(readWrite(r, r.uint32() + r.pos))
    else r.skip(type, no)
  }
  if (r.pos !== end) throw new Error('malformed cache fields')
  return fields
}

function readWrite (r: BinaryReader, end: number): StateWrite {
  let key = ''
  let value: Uint8Array | null = null
  while (r.pos < end) {
    const [no, type] = r.tag()
    if (no === 1 && type === WireType.LengthDelimited) key = r.string()
    else if (no === 2 && type === WireType.LengthDelimited) value = r.bytes()
    else r.skip(type, no)
  }
  if (r.pos !== end) throw new Error('malformed cache fields')
  return [key, value]
}

/** Go's %#v of a []byte, which Fabric's ledger puts in its SetState error. */
function goBytesLiteral (b: Uint8Array | undefined): string {
  if (b === undefined) return '[]byte(nil)'
  return `[]byte{${Array.from(b, x => '0x' + x.toString(16)).join(', ')}}`
}

/**
 * Why the peer refuses a PUT_STATE (Fabric's ledger error), or undefined when it takes it. The
 * chaincode's side checks the same before it keeps a write for later, so the chaincode sees the
 * same error at the same call either way. protobuf cannot tell an empty value from none, and
 * Fabric's ledger refuses nil values.
 */
export function putStateRefusal (key: string, value: Uint8Array): string | undefined {
  if (key !== '' && value.length > 0) return undefined
  return `LedgerError - InvalidArgument: An empty string key or a nil value is not supported. Method invoked with key='${key}', value='${goBytesLiteral(value.length === 0 ? undefined : value)}'`
}
