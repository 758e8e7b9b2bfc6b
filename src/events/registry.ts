import { EventType, type Event, type Interest } from '../protos/events_pb.ts'
import { eventTypeName } from './events.ts'

/** Whoever receives events: a gRPC or libp2p stream, or an in-process listener. */
export interface EventConsumer {
  /** For logs: remote address or peer id. */
  readonly name: string
  /** Resolves once the event is handed to the transport (a slow consumer holds up delivery, as in Fabric). */
  deliver (ev: Event): Promise<void>
}

/**
 * Who wants which events: BLOCK and REJECTION are plain sets; CHAINCODE is keyed by
 * chaincode id and event name, where an empty name means every event of that chaincode.
 * Error texts are Fabric's, so logs read the same.
 */
export class InterestRegistry {
  private readonly block = new Set<EventConsumer>()
  private readonly rejection = new Set<EventConsumer>()
  private readonly chaincode = new Map<string, Map<string, Set<EventConsumer>>>()

  add (interest: Interest, c: EventConsumer): void {
    const fail = (why: string): never => { throw new Error(`error registering handler for  ${eventTypeName(interest.eventType)}: ${why}`) }
    switch (interest.eventType) {
      case EventType.BLOCK:
      case EventType.REJECTION: {
        const set = interest.eventType === EventType.BLOCK ? this.block : this.rejection
        if (set.has(c)) fail('handler exists for event type')
        set.add(c)
        return
      }
      case EventType.CHAINCODE: {
        const reg = interest.RegInfo.case === 'chaincodeRegInfo' ? interest.RegInfo.value : undefined
        if (reg === undefined) fail('chaincode information not provided for registering')
        if (reg!.chaincodeID === '') fail('chaincode ID not provided for registering')
        let byName = this.chaincode.get(reg!.chaincodeID)
        if (byName === undefined) this.chaincode.set(reg!.chaincodeID, byName = new Map())
        let set = byName.get(reg!.eventName)
        if (set === undefined) byName.set(reg!.eventName, set = new Set())
        if (set.has(c)) fail('handler exists for event type')
        set.add(c)
        return
      }
      default:
        throw new Error(`event type ${eventTypeName(interest.eventType)} does not exist`)
    }
  }

  delete (interest: Interest, c: EventConsumer): void {
    const fail = (why: string): never => { throw new Error(`error deregistering handler for ${eventTypeName(interest.eventType)}: ${why}`) }
    switch (interest.eventType) {
      case EventType.BLOCK:
      case EventType.REJECTION: {
        const set = interest.eventType === EventType.BLOCK ? this.block : this.rejection
        if (!set.delete(c)) fail('handler does not exist for event type')
        return
      }
      case EventType.CHAINCODE: {
        const reg = interest.RegInfo.case === 'chaincodeRegInfo' ? interest.RegInfo.value : undefined
        if (reg === undefined) fail('chaincode information not provided for de-registering')
        if (reg!.chaincodeID === '') fail('chaincode ID not provided for de-registering')
        const byName = this.chaincode.get(reg!.chaincodeID)
        if (byName === undefined) fail('chaincode ID not registered')
        const set = byName!.get(reg!.eventName)
        if (set === undefined) fail(`event name ${reg!.eventName} not registered for chaincode ID ${reg!.chaincodeID}`)
        if (!set!.delete(c)) fail(`handler not registered for event name ${reg!.eventName} for chaincode ID ${reg!.chaincodeID}`)
        if (set!.size === 0) byName!.delete(reg!.eventName)
        if (byName!.size === 0) this.chaincode.delete(reg!.chaincodeID)
        return
      }
      default:
        throw new Error(`event type ${eventTypeName(interest.eventType)} does not exist`)
    }
  }

  /** The consumers an event goes to. */
  consumersOf (ev: Event): EventConsumer[] {
    switch (ev.Event.case) {
      case 'block': return [...this.block]
      case 'rejection': return [...this.rejection]
      case 'chaincodeEvent': {
        const { chaincodeID, eventName } = ev.Event.value
        const byName = this.chaincode.get(chaincodeID)
        if (chaincodeID === '' || byName === undefined) return []
        const out = [...(byName.get(eventName) ?? [])]
        // Listeners of "all events of this chaincode" (a nameless event already reached them).
        // One registered both ways hears a named event twice, as from Fabric's hub.
        if (eventName !== '') out.push(...(byName.get('') ?? []))
        return out
      }
      default: return []
    }
  }

  /** Number of distinct consumers with at least one interest. */
  get size (): number {
    const all = new Set([...this.block, ...this.rejection])
    for (const byName of this.chaincode.values()) for (const set of byName.values()) for (const c of set) all.add(c)
    return all.size
  }
}
