import { fromBinary, toBinary } from '@bufbuild/protobuf'
import { MessageSchema, type Message, type PeerID } from '../../src/protos/fabric_pb.ts'
import type { Communicator } from '../../src/consensus/interfaces.ts'
import { handle, replicaIdOf } from '../../src/consensus/validators.ts'
import type { Prng } from './prng.ts'
import type { SimClock } from './scheduler.ts'

export interface LinkConfig {
  /** Base one-way delay. */
  delayMs: number
  /** Extra uniform random delay; with `fifo` false this reorders messages. */
  jitterMs: number
  /** Probability a message is lost. */
  loss: number
  /** Probability a message is delivered twice. */
  duplicate: number
  /** Keep each link's messages in order (like a TCP connection). */
  fifo: boolean
}

export const defaultLink: LinkConfig = { delayMs: 2, jitterMs: 8, loss: 0, duplicate: 0, fifo: true }

/**
 * Rewrites, drops (return []) or multiplies a message from `src` to `dst`, like Fabric's test
 * network filterFn. Byzantine behaviour and fuzzing are filters on a replica's outgoing messages.
 */
export type Filter = (src: number, dst: number, msg: Message) => Message[]

export type Receiver = (msg: Message, from: PeerID) => void

/** Every message travels as bytes, with seeded delay, loss, duplication, partitions and crashes. */
export class SimNetwork {
  private readonly receivers = new Map<number, Receiver>()
  readonly down = new Set<number>()
  /** Groups of replicas that can talk; undefined = everyone can. */
  partition?: number[][]
  readonly filters: Filter[] = []
  link: LinkConfig
  private readonly lastArrival = new Map<string, number>()
  /** FIFO links: messages in flight per link, delivered strictly in order whatever the timers do. */
  private readonly inFlight = new Map<string, Uint8Array[]>()
  readonly stats = { sent: 0, delivered: 0, lost: 0, undeliverable: 0, rejected: 0 }

  constructor (private readonly sched: SimClock, private readonly prng: Prng, link: Partial<LinkConfig> = {}) {
    this.link = { ...defaultLink, ...link }
  }

  attach (id: number, receiver: Receiver): void { this.receivers.set(id, receiver) }

  /** True when src and dst are in the same partition group (or there is none). */
  connected (src: number, dst: number): boolean {
    if (this.partition === undefined) return true
    return this.partition.some(g => g.includes(src) && g.includes(dst))
  }

  communicator (self: number): Communicator {
    return {
      unicast: async (msg, receiver) => {
        const dst = replicaIdOf(receiver.name)
        if (!this.receivers.has(dst)) throw new Error(`no such replica ${receiver.name}`)
        this.send(self, dst, msg)
      },
      broadcast: async msg => {
        for (const dst of this.receivers.keys()) if (dst !== self) this.send(self, dst, msg)
      }
    }
  }

  send (src: number, dst: number, msg: Message): void {
    if (this.down.has(src)) return
    let out = [msg]
    for (const f of this.filters) out = out.flatMap(m => f(src, dst, m))
    for (const m of out) {
      this.stats.sent++
      const bytes = toBinary(MessageSchema, m)
      if (this.prng.chance(this.link.loss)) { this.stats.lost++; continue }
      this.deliver(src, dst, bytes)
      if (this.prng.chance(this.link.duplicate)) this.deliver(src, dst, bytes)
    }
  }

  /** Hands bytes to `dst` as if they came from `src`, bypassing filters (tests inject messages with it). */
  deliver (src: number, dst: number, bytes: Uint8Array, delayMs?: number): void {
    let at = this.sched.now() + Math.round(delayMs ?? this.link.delayMs + this.prng.next() * this.link.jitterMs)
    const key = `${src}>${dst}`
    const fifo = this.link.fifo
    if (fifo) {
      at = Math.max(at, this.lastArrival.get(key) ?? 0)
      let queue = this.inFlight.get(key)
      if (queue === undefined) this.inFlight.set(key, queue = [])
      queue.push(bytes)
    }
    this.lastArrival.set(key, at)
    this.sched.schedule(at - this.sched.now(), () => {
      if (fifo) bytes = this.inFlight.get(key)!.shift()!
      const receiver = this.receivers.get(dst)
      if (receiver === undefined || this.down.has(dst) || this.down.has(src) || !this.connected(src, dst)) {
        this.stats.undeliverable++
        return
      }
      try {
        receiver(fromBinary(MessageSchema, bytes), handle(`vp${src}`))
        this.stats.delivered++
      } catch {
        this.stats.rejected++
      }
    })
  }
}
