import type { Server, UntypedHandleCall } from '@grpc/grpc-js'
import type { Transaction } from '../../src/protos/fabric_pb.ts'
import { Peer } from '../../src/protos/fabric_pb.ts'
import type { PeerApi } from '../../src/peer-api.ts'
import { addService } from './service-definition.ts'
import { unary } from './unary.ts'

/**
 * protos.Peer on a grpc-js server. grpc-js takes a service once, so Chat (the peer handler's
 * bidi stream, served by the peer/transport layer: grpcChatHandler in chat-stream.ts) is passed
 * in here and gets its messages as bytes; without it Chat answers UNIMPLEMENTED.
 * ProcessTransaction hands the transaction to the peer and returns its Response.
 */
export function addPeerService (server: Server, peer: Pick<PeerApi, 'processTransaction'>, chat?: UntypedHandleCall): void {
  const handlers: Record<string, UntypedHandleCall> = {
    processTransaction: unary('/protos.Peer/ProcessTransaction', async (tx: Transaction) => peer.processTransaction(tx))
  }
  if (chat !== undefined) handlers.chat = chat
  addService(server, Peer, handlers, ['chat'])
}
