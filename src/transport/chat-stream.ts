import type { Message } from '../protos/fabric_pb.ts'

/**
 * One Chat conversation with one remote peer, whatever carries it (libp2p stream, gRPC
 * bidi stream, in-memory pair). The peer handler FSM and the receive loop only see this.
 */
export interface ChatStream {
  /** Who is on the other side (libp2p peer id, or host:port for gRPC), for logs. */
  readonly remote: string
  /** Which transport carries it: 'libp2p' | 'grpc' | 'memory', plus detail such as 'ws', 'webrtc', 'relay'. */
  readonly transport: string
  /** Resolves once the message is handed to the transport; rejects when the stream is closed or the message too large. */
  send (msg: Message): Promise<void>
  /** The next message; undefined on a clean end of stream (EOF); throws on a receive error or an undecodable frame. */
  recv (): Promise<Message | undefined>
  /** Ends the conversation; with an error, the remote side sees it aborted. Idempotent. */
  close (err?: Error): Promise<void>
}
