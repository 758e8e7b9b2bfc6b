import type { Libp2p } from '@libp2p/interface'
import { eventBytes } from '../events/events.ts'
import type { EventStream } from '../events/session.ts'
import { EventSchema, type Event } from '../protos/events_pb.ts'
import { MessageTooLargeError } from './errors.ts'
import { DEFAULT_MAX_MESSAGE_SIZE, frameOf } from './frame.ts'
import { parseAddress } from './libp2p-chat.ts'
import { Libp2pFramedStream, type Libp2pChatStreamOptions } from './libp2p-stream.ts'

export const EVENTS_PROTOCOL = '/weft/events/0.6.1'

const streamOptions: Libp2pChatStreamOptions = {
  maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
  maxQueuedFrames: 64,
  maxQueuedBytes: 4 * 1024 * 1024,
  maxPendingSends: 256
}

const frames = new WeakMap<Event, Uint8Array>()

/** An event's frame, made once however many streams it goes to (the hub hands each the same Event). */
function eventFrame (ev: Event, remote: string): Uint8Array {
  let frame = frames.get(ev)
  if (frame === undefined) {
    const body = eventBytes(ev)
    if (body.length > streamOptions.maxMessageSize) throw new MessageTooLargeError(body.length, streamOptions.maxMessageSize, 'send', remote)
    frames.set(ev, frame = frameOf(body))
  }
  return frame
}

class EventFramedStream extends Libp2pFramedStream<typeof EventSchema> {
  override async send (ev: Event): Promise<void> { await this.sendFrame(eventFrame(ev, this.remote)) }
}

/**
 * The event hub on libp2p: each `/weft/events/0.6.1` stream is one Events.Chat conversation
 * (length-prefixed protos.Event frames, Fabric's register/ack rules), relayed connections
 * included, that `serveEvents` runs (PeerNode.serveEvents).
 */
export async function serveLibp2pEvents (node: Libp2p, serveEvents: (stream: EventStream) => Promise<void>): Promise<() => Promise<void>> {
  await node.handle(EVENTS_PROTOCOL, (stream, connection) => {
    void serveEvents(new EventFramedStream(EventSchema, stream, connection, streamOptions))
  }, { runOnLimitedConnection: true, maxInboundStreams: 16 })
  return () => node.unhandle(EVENTS_PROTOCOL)
}

/** A consumer's side: an events stream to the peer at `address` (a multiaddr with /p2p/<id>). */
export async function dialLibp2pEvents (node: Libp2p, address: string): Promise<EventStream> {
  const ma = parseAddress(address)
  const connection = await node.dial(ma)
  const stream = await connection.newStream(EVENTS_PROTOCOL, { runOnLimitedConnection: true })
  return new EventFramedStream(EventSchema, stream, connection, streamOptions)
}
