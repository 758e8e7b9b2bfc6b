import { create } from '@bufbuild/protobuf'
import { utf8 } from '../crypto/bytes.ts'
import { ResponseSchema, Response_StatusCode, type Response, type Transaction } from '../protos/fabric_pb.ts'
import type { ChatDialer } from '../transport/chat-server.ts'
import { randomInt, type Random } from '../util/scheduler.ts'

export function failureResponse (text: string): Response {
  return create(ResponseSchema, { status: Response_StatusCode.FAILURE, msg: utf8(text) })
}

/** A non-validator's ExecuteTransaction: Peer.ProcessTransaction on one of `addresses`, picked at random. */
export async function sendToRandomPeer (dialer: ChatDialer, addresses: string[], random: Random, tx: Transaction): Promise<Response> {
  if (addresses.length === 0) return failureResponse('no peer known to send the transaction to')
  const address = addresses[randomInt(random, addresses.length)]
  try {
    return await dialer.processTransaction(address, tx)
  } catch (err) {
    return failureResponse(`Error calling ProcessTransaction on remote peer at address=${address}:  ${(err as Error).message}`)
  }
}
