// ChaincodeMessage marshaled by hand, byte for byte what protobuf's toBinary gives: the peer sends
// five messages an invoke over the chaincode gRPC stream, and the generic encoder's reflection
// took several microseconds for each (about 10 for a TRANSACTION with its security context),
// against under one. Anything unusual (unknown fields, a chaincode event, a txid that is not
// ASCII) goes to toBinary. (Decoding by hand gained nothing over fromBinary.)
import { toBinary } from '@bufbuild/protobuf'
import { isAscii } from '../crypto/bytes.ts'
import { ChaincodeMessageSchema, type ChaincodeMessage, type ChaincodeSecurityContext } from '../protos/chaincode_pb.ts'
import { int32Size, LEN, lenFieldSize, timestampBodySize, varintSize, writeBytesField, writeInt32, writeTimestampField, writeVarint } from '../util/varint.ts'

/** The bytes toBinary(ChaincodeMessageSchema, msg) gives. */
export function marshalChaincodeMessage (msg: ChaincodeMessage): Uint8Array {
  const { timestamp: ts, securityContext: sc } = msg
  if (msg.$unknown !== undefined || msg.chaincodeEvent !== undefined || ts?.$unknown !== undefined ||
    sc?.$unknown !== undefined || sc?.txTimestamp?.$unknown !== undefined || !isAscii(msg.txid)) {
    return toBinary(ChaincodeMessageSchema, msg)
  }
  const tsLen = ts === undefined ? 0 : timestampBodySize(ts)
  const scLen = sc === undefined ? 0 : securityContextSize(sc)
  const size = (msg.type === 0 ? 0 : 1 + int32Size(msg.type)) + (ts === undefined ? 0 : 1 + varintSize(tsLen) + tsLen) +
    lenFieldSize(msg.payload.length) + lenFieldSize(msg.txid.length) + (sc === undefined ? 0 : 1 + varintSize(scLen) + scLen)
  const out = new Uint8Array(size)
  let pos = 0
  if (msg.type !== 0) { out[pos++] = 1 << 3; pos = writeInt32(out, pos, msg.type) }
  if (ts !== undefined) pos = writeTimestampField(out, pos, 2, ts, tsLen)
  pos = writeBytesField(out, pos, 3, msg.payload)
  if (msg.txid !== '') {
    out[pos++] = 4 << 3 | LEN
    pos = writeVarint(out, pos, msg.txid.length)
    for (let i = 0; i < msg.txid.length; i++) out[pos++] = msg.txid.charCodeAt(i)
  }
  if (sc !== undefined) {
    out[pos++] = 5 << 3 | LEN
    pos = writeVarint(out, pos, scLen)
    pos = writeBytesField(out, pos, 1, sc.callerCert)
    pos = writeBytesField(out, pos, 2, sc.callerSign)
    pos = writeBytesField(out, pos, 3, sc.payload)
    pos = writeBytesField(out, pos, 4, sc.binding)
    pos = writeBytesField(out, pos, 5, sc.metadata)
    pos = writeBytesField(out, pos, 6, sc.parentMetadata)
    if (sc.txTimestamp !== undefined) writeTimestampField(out, pos, 7, sc.txTimestamp, timestampBodySize(sc.txTimestamp))
  }
  return out
}

function securityContextSize (sc: ChaincodeSecurityContext): number {
  const ts = sc.txTimestamp
  const tsLen = ts === undefined ? 0 : timestampBodySize(ts)
  return lenFieldSize(sc.callerCert.length) + lenFieldSize(sc.callerSign.length) + lenFieldSize(sc.payload.length) +
    lenFieldSize(sc.binding.length) + lenFieldSize(sc.metadata.length) + lenFieldSize(sc.parentMetadata.length) +
    (ts === undefined ? 0 : 1 + varintSize(tsLen) + tsLen)
}
