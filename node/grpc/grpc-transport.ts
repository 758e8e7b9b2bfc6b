import type { UntypedHandleCall } from '@grpc/grpc-js'
import type { Response, Transaction } from '../../src/protos/fabric_pb.ts'
import type { AbortOptions, TransportServer } from '../../src/transport/chat-server.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import type { PeerTransport } from '../../src/transport/peer-transport.ts'
import { GrpcChatDialer, type GrpcChatDialerOptions } from './chat-dialer.ts'
import { grpcChatHandler } from './chat-stream.ts'

/**
 * Fabric's own transport: peers at host:port, Peer.Chat and Peer.ProcessTransaction over gRPC.
 * The gRPC server (shared with Admin, Devops, Openchain) is the edge's; it serves `chatHandler`
 * as Peer.Chat, which takes chats only while the transport is started.
 */
export class GrpcTransport implements PeerTransport {
  readonly name = 'grpc'
  readonly chatHandler: UntypedHandleCall
  private readonly dialer: GrpcChatDialer
  private server?: TransportServer
  private readonly accepted = new Set<ChatStream>()

  /** `address` is peer.address, what gRPC peers are told to dial back. */
  constructor (readonly address: string, options: GrpcChatDialerOptions = {}) {
    this.dialer = new GrpcChatDialer(options)
    this.chatHandler = grpcChatHandler({ handleChat: async (stream, initiated) => await this.accept(stream, initiated) }, options)
  }

  canDial (address: string): boolean { return this.dialer.canDial(address) }

  dialChat (address: string, options?: AbortOptions): Promise<ChatStream> { return this.dialer.dialChat(address, options) }

  processTransaction (address: string, tx: Transaction, options?: AbortOptions): Promise<Response> {
    return this.dialer.processTransaction(address, tx, options)
  }

  async start (server: TransportServer): Promise<void> { this.server = server }

  async stop (): Promise<void> {
    this.server = undefined
    await Promise.allSettled([...this.accepted].map(async s => await s.close()))
  }

  private async accept (stream: ChatStream, initiated: boolean): Promise<void> {
    const server = this.server
    if (server === undefined) {
      await stream.close(new Error('this peer is not taking chats'))
      return
    }
    this.accepted.add(stream)
    try {
      await server.handleChat(stream, initiated)
    } finally {
      this.accepted.delete(stream)
    }
  }
}
