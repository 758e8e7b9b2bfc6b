import type { Server, ServerDuplexStream } from '@grpc/grpc-js'
import { eventBytes } from '../../src/events/events.ts'
import type { EventStream } from '../../src/events/session.ts'
import { Events, type Event } from '../../src/protos/events_pb.ts'
import { addService, callStream } from './service-definition.ts'

/**
 * protos.Events/Chat (the event hub on peer.validator.events.address): each call is one
 * consumer; register/unregister are acknowledged by echo, matching events stream back.
 * A malformed frame ends the call with INVALID_ARGUMENT; an event of the client's own
 * (block, rejection, ...) with UNKNOWN, as Fabric's handler error does. `serveEvents` runs one
 * conversation (PeerNode.serveEvents). An event is encoded once for all the calls it goes to.
 */
export function addEventsService (server: Server, serveEvents: (stream: EventStream) => Promise<void>): void {
  addService(server, Events, {
    chat: (call: ServerDuplexStream<Event, Event>) => {
      void serveEvents(callStream<Event, Event>(call, 'server', call.getPeer()))
    }
  }, [], { chat: eventBytes })
}
