import { EventType, type ChaincodeReg, type Event, type Interest } from '../protos/events_pb.ts'
import { eventTypeName } from './events.ts'

/** Whoever receives events: a gRPC or libp2p stream, or an in-process listener. */
export interface EventConsumer {
  /** For logs: remote address or peer id. */
  readonly name: string
  /** Resolves once the event is handed to the transport (a slow consumer holds up delivery, as in Fabric). */
  deliver (ev: Event): Promise<void>
}

/** The chaincode id and event name of a CHAINCODE interest, refused as Fabric refuses them (`doing`: "registering" or "de-registering"). */
function chaincodeInterest (interest: Interest, fail: (why: string) => never, doing: string): ChaincodeReg {
  const reg = interest.RegInfo.case === 'chaincodeRegInfo' ? interest.RegInfo.value : undefined
  if (reg === undefined) return fail(`chaincode information not provided for ${doing}`)
  if (reg.chaincodeID === '') fail(`chaincode ID not provided for ${doing}`)
  return reg
}

function unknownType (interest: Interest): Error {
  return new Error(`event type ${eventTypeName(interest.eventType)} does not exist`)
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
    let set = this.plain(interest.eventType)
    if (set === undefined && interest.eventType === EventType.CHAINCODE) {
      const reg = chaincodeInterest(interest, fail, 'registering')
      let byName = this.chaincode.get(reg.chaincodeID)
      if (byName === undefined) this.chaincode.set(reg.chaincodeID, byName = new Map())
      set = byName.get(reg.eventName)
      if (set === undefined) byName.set(reg.eventName, set = new Set())
    }
    if (set === undefined) throw unknownType(interest)
    if (set.has(c)) fail('handler exists for event type')
    set.add(c)
  }

  delete (interest: Interest, c: EventConsumer): void {
    const fail = (why: string): never => { throw new Error(`error deregistering handler for ${eventTypeName(interest.eventType)}: ${why}`) }
    const plain = this.plain(interest.eventType)
    if (plain !== undefined) {
      if (!plain.delete(c)) fail('handler does not exist for event type')
      return
    }
    if (interest.eventType !== EventType.CHAINCODE) throw unknownType(interest)
    const reg = chaincodeInterest(interest, fail, 'de-registering')
    const byName = this.chaincode.get(reg.chaincodeID)
    if (byName === undefined) return fail('chaincode ID not registered')
    const set = byName.get(reg.eventName)
    if (set === undefined) return fail(`event name ${reg.eventName} not registered for chaincode ID ${reg.chaincodeID}`)
    if (!set.delete(c)) fail(`handler not registered for event name ${reg.eventName} for chaincode ID ${reg.chaincodeID}`)
    if (set.size === 0) byName.delete(reg.eventName)
    if (byName.size === 0) this.chaincode.delete(reg.chaincodeID)
  }

  /** The consumers of BLOCK or REJECTION events (sets without keys); undefined for other types. */
  private plain (type: EventType): Set<EventConsumer> | undefined {
    if (type === EventType.BLOCK) return this.block
    return type === EventType.REJECTION ? this.rejection : undefined
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
