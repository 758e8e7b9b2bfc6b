import { create, fromBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf'
import { ChaincodeMessageSchema, ChaincodeMessage_Type, type ChaincodeMessage } from '../protos/chaincode_pb.ts'

export const MsgType = ChaincodeMessage_Type

/** The Go enum name of a message type (what Fabric prints in its errors), e.g. PUT_STATE. */
export function typeName (type: ChaincodeMessage_Type): string {
  return ChaincodeMessage_Type[type] ?? String(type)
}

type MessageFields = Omit<Exclude<MessageInitShape<typeof ChaincodeMessageSchema>, ChaincodeMessage>, 'type' | '$typeName'>

export function ccMessage (type: ChaincodeMessage_Type, init: MessageFields = {}): ChaincodeMessage {
  // Most messages are a txid and a payload: built as create() would, without its reflection.
  if (init.timestamp === undefined && init.securityContext === undefined && init.chaincodeEvent === undefined) {
    return { $typeName: ChaincodeMessageSchema.typeName, type, payload: init.payload ?? new Uint8Array(0), txid: init.txid ?? '' }
  }
  return create(ChaincodeMessageSchema, { ...init, type })
}

/** An ERROR message whose payload is the error text, as both sides of Fabric send them. */
export function errorMessage (txid: string, text: string, type: ChaincodeMessage_Type = MsgType.ERROR): ChaincodeMessage {
  return ccMessage(type, { txid, payload: new TextEncoder().encode(text) })
}

/** Decodes a payload, turning protobuf's exception into an error that names what was expected. */
export function decodePayload<D extends DescMessage> (schema: D, bytes: Uint8Array): MessageShape<D> {
  try {
    return fromBinary(schema, bytes)
  } catch (err) {
    throw new Error(`malformed ${schema.typeName} payload: ${(err as Error).message}`)
  }
}

/** Fabric logs the first 8 characters of a txid. */
export function shortTxid (txid: string): string {
  return txid.length < 8 ? txid : txid.slice(0, 8)
}

/** Text of a payload (errors travel as UTF-8 bytes). */
export function payloadText (msg: ChaincodeMessage): string {
  return new TextDecoder().decode(msg.payload)
}
