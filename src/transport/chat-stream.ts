import type { Message } from '../protos/fabric_pb.ts'
import type { MessageStream } from '../util/message-stream.ts'

/**
 * One Chat conversation with one remote peer, whatever carries it (libp2p stream, gRPC
 * bidi stream, in-memory pair). The peer handler FSM and the receive loop only see this.
 * `remote` is the libp2p peer id, or host:port for gRPC.
 */
export interface ChatStream extends MessageStream<Message> {
  /** Which transport carries it: 'libp2p' | 'grpc' | 'memory', plus detail such as 'ws', 'webrtc', 'relay'. */
  readonly transport: string
}
