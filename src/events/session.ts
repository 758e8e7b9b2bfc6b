import { EventType, type Event, type Interest } from '../protos/events_pb.ts'
import { createLogger } from '../util/logger.ts'
import type { EventHub } from './hub.ts'
import type { EventConsumer } from './registry.ts'
import { errorMessage } from '../util/errors.ts'
import type { MessageStream } from '../util/message-stream.ts'

/**
 * One Events.Chat conversation, whatever carries it (gRPC bidi stream on 7053, libp2p
 * `/weft/events/0.6.1`, an in-memory pair in tests). The adapters only implement this.
 */
export type EventStream = MessageStream<Event>

/** The client sent something other than register/unregister. */
export class EventProtocolError extends Error {
  override name = 'EventProtocolError'
}

const log = createLogger('eventhub')

/** Fabric's interest key: one registration per type, per chaincode id and event name for CHAINCODE. */
function interestKey (i: Interest): string {
  if (i.eventType !== EventType.CHAINCODE) return `/${i.eventType}`
  const reg = i.RegInfo.case === 'chaincodeRegInfo' ? i.RegInfo.value : undefined
  return `/${i.eventType}/${reg?.chaincodeID ?? ''}/${reg?.eventName ?? ''}`
}

/**
 * Serves one stream until it ends, as Fabric's events producer does: each Register or
 * Unregister updates the interests (a refused interest is logged, the others still apply)
 * and is echoed back as the acknowledgement; an empty Event is echoed too; any other event
 * from the client ends the stream with an error. Matching events flow to the client
 * meanwhile. Closes the stream and drops its interests when done; never throws.
 */
export async function serveEventStream (hub: EventHub, stream: EventStream): Promise<void> {
  const consumer: EventConsumer = { name: stream.remote, deliver: ev => stream.send(ev) }
  const registered = new Map<string, Interest>()
  let failure: Error | undefined
  try {
    for (;;) {
      const msg = await stream.recv()
      if (msg === undefined) break
      switch (msg.Event.case) {
        case 'register':
          for (const i of msg.Event.value.events) {
            try {
              hub.register(consumer, i)
              registered.set(interestKey(i), i)
            } catch (err) {
              log.warn(`${stream.remote}: could not register interest: ${errorMessage(err)}`)
            }
          }
          break
        case 'unregister':
          for (const i of msg.Event.value.events) {
            try {
              hub.deregister(consumer, i)
              registered.delete(interestKey(i))
            } catch (err) {
              log.warn(`${stream.remote}: could not deregister interest: ${errorMessage(err)}`)
            }
          }
          break
        case undefined:
          break
        default:
          throw new EventProtocolError(`invalid event type from client: ${msg.Event.case} (only register and unregister are accepted)`)
      }
      await stream.send(msg)
    }
  } catch (err) {
    failure = err as Error
    log.warn(`${stream.remote}: events stream ended: ${failure.message}`)
  } finally {
    for (const i of registered.values()) {
      try { hub.deregister(consumer, i) } catch (err) { log.error(`${stream.remote}: could not drop interest: ${errorMessage(err)}`) }
    }
  }
  await stream.close(failure).catch(err => log.debug(`${stream.remote}: close: ${errorMessage(err)}`))
}
