import { PeerEndpoint_Type, type Message, type PeerEndpoint } from '../protos/fabric_pb.ts'
import { createLogger } from '../util/logger.ts'
import { DuplicateHandlerError } from './errors.ts'
import type { PeerHandler } from './handler.ts'
import { typeName } from './messages.ts'

const log = createLogger('peer')

/**
 * The handlers of the chats that said HELLO, by peer id (Fabric's handlerMap), the second chats
 * with those peers, and sending to them: what broadcast and unicast reach.
 */
export class HandlerRegistry {
  private readonly handlers = new Map<string, PeerHandler>()
  /** Second chats with registered peers (kept open, unlisted), by peer id. */
  private readonly secondaries = new Map<string, Set<PeerHandler>>()
  private readonly listeners = new Set<() => void>()

  /** `prepare`: the message as it goes out (signed when security is on). */
  constructor (private readonly selfId: string, private readonly prepare: (msg: Message) => Promise<Message>) {}

  /** Throws for this peer's own id, and for a second chat with a registered peer unless it wins the race. */
  register (h: PeerHandler): void {
    const ep = h.to()!
    const id = ep.ID!.name
    if (id === this.selfId) throw new Error(`refusing a chat with a peer that uses this peer's own id ${id}`)
    const existing = this.handlers.get(id)
    if (existing !== undefined && existing !== h) {
      // Both sides dialled at once: each keeps the stream opened by the peer with the smaller id.
      const keepNew = existing.initiatedStream !== h.initiatedStream && h.initiatedStream === (this.selfId < id)
      if (!keepNew) throw new DuplicateHandlerError(ep)
      log.debug(`Replacing the chat with ${id}: both sides dialled, keeping the stream ${h.initiatedStream ? 'this peer' : id} opened`)
      void existing.stream.close(new Error(`superseded by the chat ${h.initiatedStream ? 'this peer' : id} opened`))
    }
    this.handlers.set(id, h)
    log.debug(`registered handler with key: ${id}`)
    this.changed()
  }

  deregister (h: PeerHandler): void {
    const id = h.to()?.ID?.name
    if (id === undefined || this.handlers.get(id) !== h) return
    this.handlers.delete(id)
    log.debug(`Deregistered handler with key: ${id}`)
    this.changed()
  }

  /** Calls `listener` whenever a peer registers or goes away. */
  onChanged (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed (): void {
    for (const l of this.listeners) l()
  }

  get (peerID: string): PeerHandler | undefined { return this.handlers.get(peerID) }

  ids (): string[] { return [...this.handlers.keys()] }

  get byId (): ReadonlyMap<string, PeerHandler> { return this.handlers }

  /** The endpoints of every registered peer. */
  endpoints (): PeerEndpoint[] { return [...this.handlers.values()].map(h => h.to()!) }

  /** The registered handler whose peer says it is at `address`. */
  at (address: string): PeerHandler | undefined {
    for (const h of this.handlers.values()) if (h.to()?.address === address) return h
    return undefined
  }

  secondaryChat (h: PeerHandler, open: boolean): void {
    const id = h.to()?.ID?.name
    if (id === undefined) return
    const set = this.secondaries.get(id) ?? new Set<PeerHandler>()
    if (open) set.add(h)
    else set.delete(h)
    if (set.size > 0) this.secondaries.set(id, set)
    else this.secondaries.delete(id)
  }

  /**
   * Every chat with `peerID`: the registered one first, then second chats it opened that this
   * peer did not list. A Fabric peer answers requests only on the chat it registered, which
   * may be one of those (both sides dialled, and each registered the chat it heard from first).
   */
  chatsWith (peerID: string): PeerHandler[] {
    const h = this.handlers.get(peerID)
    return [...(h === undefined ? [] : [h]), ...(this.secondaries.get(peerID) ?? [])]
  }

  /** Sends `msg` to every registered peer of `type` (UNDEFINED = all); returns one error per failed send. */
  async broadcast (msg: Message, type: PeerEndpoint_Type = PeerEndpoint_Type.UNDEFINED): Promise<Error[]> {
    const targets = [...this.handlers.values()].filter(h => isOfType(h, type))
    // Signing costs more than anything else here: not for nobody.
    if (targets.length === 0) return []
    const signed = await this.prepare(msg)
    const results = await Promise.allSettled(targets.map(async h => await h.sendMessage(signed)))
    return results.flatMap((r, i) => r.status === 'fulfilled'
      ? []
      : [new Error(`Error broadcasting msg (${typeName(msg.type)}) to PeerEndpoint (${targets[i].name}): ${(r.reason as Error).message}`)])
  }

  /** Whether a broadcast to `type` would reach any peer now. */
  reaches (type: PeerEndpoint_Type): boolean {
    for (const h of this.handlers.values()) if (isOfType(h, type)) return true
    return false
  }

  async unicast (msg: Message, name: string): Promise<void> {
    const h = this.handlers.get(name)
    if (h === undefined) throw new Error(`Message handler not found for receiver ${name}`)
    try {
      await h.sendMessage(msg)
    } catch (err) {
      throw new Error(`Error unicasting msg (${typeName(msg.type)}) to PeerEndpoint (${name}): ${(err as Error).message}`)
    }
  }
}

/** A broadcast to `type` (UNDEFINED = all) goes to this handler's peer. */
function isOfType (h: PeerHandler, type: PeerEndpoint_Type): boolean {
  return type === PeerEndpoint_Type.UNDEFINED || h.to()?.type === type
}
