import type { Message, PeerEndpoint } from '../protos/fabric_pb.ts'
import type { ChatStream } from '../transport/chat-stream.ts'

/**
 * What handles the messages of one Chat stream (Fabric's peer.MessageHandler). The peer
 * handler FSM implements it; consensus wraps it (ConsensusHandler) to divert CONSENSUS messages.
 */
export interface MessageHandler {
  /** Takes one received message. Throws when the message cannot be taken in the current state. */
  handleMessage (msg: Message): Promise<void>
  /** Sends a message to the remote peer on this handler's stream. */
  sendMessage (msg: Message): Promise<void>
  /** The remote peer's endpoint, once its HELLO has arrived. */
  to (): PeerEndpoint | undefined
  /** Stops timers, deregisters from the coordinator. Idempotent. */
  stop (): Promise<void>
}

/**
 * Builds the handler for a new Chat stream. `coordinator` is the peer (peer.Impl);
 * `initiatedStream` is true on the side that dialled, which sends HELLO first.
 */
export type HandlerFactory<C = unknown> = (coordinator: C, stream: ChatStream, initiatedStream: boolean) => MessageHandler
