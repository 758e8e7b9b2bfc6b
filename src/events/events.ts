import { create, toBinary } from '@bufbuild/protobuf'
import type { ChaincodeEvent } from '../protos/chaincodeevent_pb.ts'
import { EventSchema, EventType, type Event } from '../protos/events_pb.ts'
import type { Block, Transaction } from '../protos/fabric_pb.ts'

/** Event{block}; the caller strips deploy code packages first (see withoutCodePackages). */
export function blockEvent (block: Block): Event {
  return create(EventSchema, { Event: { case: 'block', value: block } })
}

/** Event{chaincodeEvent}: one event a chaincode set during a committed transaction. */
export function chaincodeEvent (ev: ChaincodeEvent): Event {
  return create(EventSchema, { Event: { case: 'chaincodeEvent', value: ev } })
}

/** Event{rejection}: a transaction that failed to execute, with the reason. */
export function rejectionEvent (tx: Transaction, errorMsg: string): Event {
  return create(EventSchema, { Event: { case: 'rejection', value: { tx, errorMsg } } })
}

/** The EventType an event is delivered under (REGISTER for register messages), or undefined when unset. */
export function eventTypeOf (ev: Event): EventType | undefined {
  switch (ev.Event.case) {
    case 'register': return EventType.REGISTER
    case 'block': return EventType.BLOCK
    case 'chaincodeEvent': return EventType.CHAINCODE
    case 'rejection': return EventType.REJECTION
    default: return undefined
  }
}

export function eventTypeName (t: EventType): string {
  return EventType[t] ?? String(t)
}

const encoded = new WeakMap<Event, Uint8Array>()

/**
 * The event's wire bytes, encoded at the first call and kept with the event: the hub hands the
 * same Event to every consumer, so a block goes out to many listeners but is encoded once.
 * Events are not changed once published.
 */
export function eventBytes (ev: Event): Uint8Array {
  let bytes = encoded.get(ev)
  if (bytes === undefined) encoded.set(ev, bytes = toBinary(EventSchema, ev))
  return bytes
}
