import { HelloMessageSchema, Message_Type, type Message } from '../protos/fabric_pb.ts'
import type { ChatStream } from '../transport/chat-stream.ts'
import { createLogger } from '../util/logger.ts'
import type { MessageHandler } from './message-handler.ts'
import { parsePayload, typeName } from './messages.ts'
import { isSigned, verifyMessage, type MessageSigner } from './security.ts'
import { errorMessage } from '../util/errors.ts'

const log = createLogger('peer')

export type Verifier = (msg: Message, handler: MessageHandler, stream: ChatStream) => Promise<void>

/**
 * The receive loop of Fabric's handleChat: EOF ends it quietly, a receive error ends it with
 * that error, and a message the handler cannot take is logged and the loop goes on.
 */
export async function receiveLoop (stream: ChatStream, handler: MessageHandler, verify?: Verifier): Promise<void> {
  while (true) {
    let msg: Message | undefined
    try {
      msg = await stream.recv()
    } catch (err) {
      throw new Error(`Error during Chat, stopping handler: ${(err as Error).message}`)
    }
    if (msg === undefined) {
      log.debug(`Received EOF from ${stream.remote}, ending Chat`)
      return
    }
    try {
      if (verify !== undefined) await verify(msg, handler, stream)
      await handler.handleMessage(msg)
    } catch (err) {
      log.error(`Error handling message: ${errorMessage(err)}`)
    }
  }
}

/**
 * With security on: HELLO must be signed by the key its endpoint names (Fabric's rule); under the
 * 'every' rule each later message too, by that same key — checked here, before a consensus
 * handler sees it. Under Fabric's rule the HELLO binds the stream, and the handler refuses
 * anything else before it.
 */
export const verifyIncoming = (signer: MessageSigner): Verifier => async (msg, handler, stream) => {
  if (!isSigned(signer.rule, msg.type)) return
  let pkiID = handler.to()?.pkiID
  if (msg.type === Message_Type.DISC_HELLO) pkiID = parsePayload(HelloMessageSchema, msg, 'HelloMessage').peerEndpoint?.pkiID
  if (pkiID === undefined) throw new Error(`cannot verify ${typeName(msg.type)} from ${stream.remote}: no HELLO yet`)
  try {
    await verifyMessage(msg, pkiID, handler.to()?.ID?.name ?? stream.remote, signer.rule, signer.verify)
  } catch (err) {
    throw new Error(`Error Verifying signature for received ${typeName(msg.type)}: ${(err as Error).message}`)
  }
}
