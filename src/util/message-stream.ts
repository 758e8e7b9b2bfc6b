/**
 * One conversation with one remote party, whatever carries it (libp2p stream, gRPC bidi
 * stream, worker channel, in-memory pair): a peer's Chat, an Events.Chat, a chaincode's
 * Register. Both ways carry messages of type `M`.
 */
export interface MessageStream<M> {
  /** Who is on the other side, for logs. */
  readonly remote: string
  /** Resolves once the message is handed over; rejects when the stream is closed, its queue full or the message too large. */
  send (msg: M): Promise<void>
  /** The next message; undefined on a clean end of stream; throws when the stream broke or a frame does not decode. */
  recv (): Promise<M | undefined>
  /** Ends the conversation; with an error, the other side sees it failed. Idempotent. */
  close (err?: Error): Promise<void>
}
