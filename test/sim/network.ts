import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { replicaIdOf, replicaName } from '../../src/consensus/validators.ts'
import { Message_Type, ResponseSchema, TransactionSchema, type Message, type Response, type Transaction } from '../../src/protos/fabric_pb.ts'
import type { ChatServer } from '../../src/transport/chat-server.ts'
import type { PeerTransport } from '../../src/transport/peer-transport.ts'
import type { ChatStream } from '../../src/transport/chat-stream.ts'
import { StreamClosedError } from '../../src/transport/errors.ts'
import { memoryChatPair } from '../../src/transport/memory.ts'
import type { Prng } from './prng.ts'
import type { SimClock } from './scheduler.ts'

export interface LinkConfig {
  /** Base one-way delay. */
  delayMs: number
  /** Extra uniform random delay. */
  jitterMs: number
  /** Probability a CONSENSUS message is lost. */
  loss: number
  /** Probability a CONSENSUS message is delivered twice. */
  duplicate: number
  /** False: CONSENSUS messages overtake one another with the jitter (other frames stay in order). */
  fifo: boolean
}

export const defaultLink: LinkConfig = { delayMs: 2, jitterMs: 8, loss: 0, duplicate: 0, fifo: true }

/**
 * Rewrites, drops (return []) or multiplies a CONSENSUS message from `src` to `dst`, like Fabric's
 * test network filterFn. Byzantine behaviour and fuzzing are filters on a replica's outgoing messages.
 */
export type Filter = (src: number, dst: number, msg: Message) => Message[]

/** Frames a chat keeps unread before its sender waits; the simulation's readers never fall that far behind. */
const chatCapacity = 4096

/**
 * The replicas' wire: Chat streams (src/transport/memory.ts) whose frames arrive after a seeded
 * delay, in order like a TCP connection's. A crash or a partition cuts the streams it separates
 * and refuses new dials across it. Loss, duplication, reordering and filters apply to CONSENSUS
 * messages only: a peer's chat is a reliable stream, and these faults model what PBFT must survive.
 */
export class SimNetwork {
  private readonly servers = new Map<number, ChatServer>()
  private readonly links = new Set<SimLink>()
  private groups?: number[][]
  readonly filters: Filter[] = []
  /** Extra delay (ms) for a CONSENSUS message from `src` to `dst`, as a busy receiver reads it late; later frames queue behind it. */
  readonly delays: Array<(src: number, dst: number, msg: Message) => number> = []
  link: LinkConfig

  constructor (readonly sched: SimClock, private readonly prng: Prng, link: Partial<LinkConfig> = {}) {
    this.link = { ...defaultLink, ...link }
  }

  /** Groups of replicas that can talk; undefined = everyone can. Setting it cuts the chats between groups. */
  get partition (): number[][] | undefined { return this.groups }
  set partition (groups: number[][] | undefined) {
    this.groups = groups
    for (const l of [...this.links]) if (!this.connected(l.a, l.b)) this.cut(l, 'partitioned')
  }

  /** True when src and dst are in the same partition group (or there is none). */
  connected (src: number, dst: number): boolean {
    if (this.groups === undefined) return true
    return this.groups.some(g => g.includes(src) && g.includes(dst))
  }

  /** Replica `id`'s way onto the network, shaped as a peer transport. */
  transport (id: number): SimTransport { return new SimTransport(this, id) }

  listen (id: number, server: ChatServer): void {
    if (this.servers.has(id)) throw new Error(`${replicaName(id)} is already on the network`)
    this.servers.set(id, server)
  }

  /** Takes `id` off the network: its chats are cut at once, as when its process dies. */
  leave (id: number): void {
    this.servers.delete(id)
    for (const l of [...this.links]) if (l.a === id || l.b === id) this.cut(l, `${replicaName(id)} is down`)
  }

  /** The server at `address` as `from` reaches it; throws when it is down or partitioned off. */
  reach (from: number, address: string): ChatServer {
    const to = replicaIdOf(address)
    const server = this.servers.get(to)
    if (server === undefined || !this.servers.has(from)) throw new Error(`${address} is unreachable (down)`)
    if (!this.connected(from, to)) throw new Error(`${address} is unreachable (partitioned)`)
    return server
  }

  dial (from: number, address: string): ChatStream {
    const server = this.reach(from, address)
    const [mine, theirs] = memoryChatPair(replicaName(from), address, { capacity: chatCapacity })
    const link = new SimLink(from, replicaIdOf(address))
    link.ends.push(new SimChatEnd(this, link, mine, link.a, link.b), new SimChatEnd(this, link, theirs, link.b, link.a))
    this.links.add(link)
    server.handleChat(link.ends[1], false).catch(() => {})
    return link.ends[0]
  }

  private cut (link: SimLink, why: string): void {
    this.links.delete(link)
    link.dead = true
    for (const e of link.ends) e.abort(new Error(why))
  }

  /** Puts `msg` on the wire from `end`, through the CONSENSUS faults. */
  transmit (end: SimChatEnd, msg: Message): void {
    if (msg.type !== Message_Type.CONSENSUS) {
      end.carry(msg, this.arrival(), false)
      return
    }
    let out = [msg]
    for (const f of this.filters) out = out.flatMap(m => f(end.from, end.to, m))
    for (const m of out) {
      if (this.prng.chance(this.link.loss)) continue
      const extra = this.delays.reduce((sum, d) => sum + d(end.from, end.to, m), 0)
      end.carry(m, this.arrival() + extra, !this.link.fifo)
      if (this.prng.chance(this.link.duplicate)) end.carry(m, this.arrival(), !this.link.fifo)
    }
  }

  /** When a frame sent now would arrive, before ordering. */
  arrival (): number {
    return this.sched.now() + Math.round(this.link.delayMs + this.prng.next() * this.link.jitterMs)
  }

  /** Closed from one end: the link is gone once both ends closed. */
  closed (link: SimLink): void {
    if (link.ends.every(e => e.isClosed)) this.links.delete(link)
  }
}

class SimLink {
  readonly ends: SimChatEnd[] = []
  dead = false
  constructor (readonly a: number, readonly b: number) {}
}

/**
 * One end of a simulated chat: what it sends reaches the other end's inbox at the arrival time
 * the network drew, never before frames sent earlier (CONSENSUS messages may overtake each other
 * when the link reorders, never the frames around them).
 */
class SimChatEnd implements ChatStream {
  readonly transport = 'sim'
  /** Arrival time of the last frame sent, and of the last one nothing may overtake. */
  private last = 0
  private barrier = 0
  isClosed = false

  constructor (
    private readonly net: SimNetwork,
    private readonly link: SimLink,
    private readonly inner: ChatStream,
    readonly from: number,
    readonly to: number
  ) {}

  get remote (): string { return this.inner.remote }

  async send (msg: Message): Promise<void> {
    if (this.isClosed || this.link.dead) throw new StreamClosedError(`chat stream to ${this.remote} is closed`)
    this.net.transmit(this, msg)
  }

  recv (): Promise<Message | undefined> { return this.inner.recv() }

  /** Closes after what is already in flight has arrived, as a socket sends its buffer before the FIN. */
  async close (err?: Error): Promise<void> {
    if (this.isClosed) return
    this.isClosed = true
    this.net.closed(this.link)
    this.at(Math.max(this.last, this.net.sched.now()), () => { void this.inner.close(err) })
  }

  /** The connection broke: both ends see the error now, and what was in flight is lost. */
  abort (err: Error): void {
    this.isClosed = true
    void this.inner.close(err)
  }

  carry (msg: Message, arrival: number, reorderable: boolean): void {
    const at = Math.max(arrival, reorderable ? this.barrier : this.last)
    this.last = Math.max(this.last, at)
    if (msg.type !== Message_Type.CONSENSUS) this.barrier = at
    this.at(at, () => { this.inner.send(msg).catch(() => {}) })
  }

  private at (time: number, fn: () => void): void {
    this.net.sched.schedule(time - this.net.sched.now(), () => { if (!this.link.dead) fn() })
  }
}

/** A replica's transport onto the simulated network. */
export class SimTransport implements PeerTransport {
  readonly name = 'sim'
  readonly address: string

  constructor (private readonly net: SimNetwork, readonly id: number) {
    this.address = replicaName(id)
  }

  canDial (address: string): boolean { return /^vp\d+$/.test(address) }

  async dialChat (address: string): Promise<ChatStream> { return this.net.dial(this.id, address) }

  /** Peer.ProcessTransaction at `address`, with the messages copied as they would be on a wire. */
  async processTransaction (address: string, tx: Transaction): Promise<Response> {
    const response = await this.net.reach(this.id, address).processTransaction(fromBinary(TransactionSchema, toBinary(TransactionSchema, tx)))
    return fromBinary(ResponseSchema, toBinary(ResponseSchema, response))
  }

  async start (server: ChatServer): Promise<void> { this.net.listen(this.id, server) }

  async stop (): Promise<void> { this.net.leave(this.id) }
}
