import type { Message, PeerID } from '../../protos/fabric_pb.ts'
import { createLogger } from '../../util/logger.ts'
import type { Scheduler } from '../../util/scheduler.ts'
import type { Communicator } from '../interfaces.ts'
import { errorMessage } from '../../util/errors.ts'

const log = createLogger('consensus/pbft')

export interface BroadcasterInit {
  self: number
  N: number
  /**
   * general.timeout.broadcast: a send that takes longer is logged (the lane waits for it all the
   * same); how long a lane waits for its replica to connect.
   */
  timeoutMs: number
  /** Messages of each kind that may wait per replica; more are dropped with a warning. */
  queueSize: number
}

export interface BroadcasterComponents {
  communicator: Communicator
  timers: Scheduler
  handleOf: (replica: number) => PeerID
}

/** A client's request as a lane holds it: sent only if, when its turn comes, it is still `needed`. */
interface QueuedRequest { msg: Message, needed: () => boolean }

interface Lane { protocol: Message[], requests: QueuedRequest[], busy: boolean, ok: boolean, slow: boolean, dropping: boolean }

/**
 * Fabric's pbft broadcaster: one ordered lane per replica, so a slow or absent replica delays
 * only its own messages, and each lane sends one message at a time, waiting for it as Fabric's
 * drainer waits on its blocking send (handing on more only queues them in the connection, which
 * refuses them past its limit). Fabric blocks the PBFT thread while a lane is full; an event loop
 * cannot block, so a full lane drops the message (PBFT recovers lost messages by its timers) and
 * says so. Clients' requests wait behind the protocol's own messages: a replica taking clients'
 * transactions queues hundreds a second to a busy replica, and pre-prepares and commits stuck or
 * dropped behind them stalled ordering. A request whose turn comes when it is no longer needed
 * (batch.ts says when) is not sent at all.
 *
 * A replica not connected yet (replicas start one after another, and a chat is up only once both
 * said HELLO) is waited for up to timeout.broadcast, so what was sent to it meanwhile arrives once
 * it is; one that stays away fails the lane, which then drops its messages at once, as Fabric's
 * drainer does, until a send succeeds again.
 */
export class Broadcaster {
  private readonly lanes = new Map<number, Lane>()
  private stopped = false
  /** Ends the waits for replicas to connect (stop). */
  private readonly waits = new Set<() => void>()

  constructor (private readonly init: BroadcasterInit, private readonly components: BroadcasterComponents) {
    for (let i = 0; i < init.N; i++) {
      if (i !== init.self) this.lanes.set(i, { protocol: [], requests: [], busy: false, ok: true, slow: false, dropping: false })
    }
  }

  /** `needed`: the message is a client's request, which waits behind protocol messages and goes only while needed. */
  broadcast (msg: Message, needed?: () => boolean): void {
    for (const replica of this.lanes.keys()) this.unicast(msg, replica, needed)
  }

  unicast (msg: Message, replica: number, needed?: () => boolean): void {
    if (this.stopped) return
    const lane = this.lanes.get(replica)
    if (lane === undefined) {
      log.warn(`Replica ${this.init.self} cannot send to replica ${replica}: not one of the ${this.init.N} replicas`)
      return
    }
    const request = needed !== undefined
    if ((request ? lane.requests : lane.protocol).length >= this.init.queueSize) {
      if (!lane.dropping) log.warn(`Replica ${this.init.self} send queue to replica ${replica} full (${this.init.queueSize} ${request ? 'requests' : 'messages'}), dropping ${request ? 'requests' : 'messages'}`)
      lane.dropping = true
      return
    }
    lane.dropping = false
    if (needed !== undefined) lane.requests.push({ msg, needed })
    else lane.protocol.push(msg)
    if (!lane.busy) void this.drain(replica, lane)
  }

  stop (): void {
    this.stopped = true
    for (const end of [...this.waits]) end()
    for (const lane of this.lanes.values()) {
      lane.protocol.length = 0
      lane.requests.length = 0
    }
  }

  private async drain (replica: number, lane: Lane): Promise<void> {
    lane.busy = true
    try {
      while (!this.stopped) {
        const msg = lane.protocol.shift() ?? this.nextRequest(lane)
        if (msg === undefined) break
        await this.send(replica, lane, msg)
      }
    } finally {
      lane.busy = false
    }
  }

  /** Whether `to` is connected, waiting for it up to timeout.broadcast unless the lane failed already. */
  private async connected (to: PeerID, lane: Lane): Promise<boolean> {
    const c = this.components.communicator
    if (c.connected === undefined || c.connected(to)) return true
    if (!lane.ok || c.onPeersChanged === undefined || this.stopped) return false
    return await new Promise<boolean>(resolve => {
      const end = (up: boolean): void => {
        timer.cancel()
        off()
        this.waits.delete(stop)
        resolve(up)
      }
      const stop = (): void => { end(false) }
      const timer = this.components.timers.schedule(this.init.timeoutMs, stop)
      const off = c.onPeersChanged!(() => { if (c.connected!(to)) end(true) })
      this.waits.add(stop)
    })
  }

  private nextRequest (lane: Lane): Message | undefined {
    for (let r = lane.requests.shift(); r !== undefined; r = lane.requests.shift()) if (r.needed()) return r.msg
    return undefined
  }

  private async send (replica: number, lane: Lane, msg: Message): Promise<void> {
    const timers = this.components.timers
    try {
      const to = this.components.handleOf(replica)
      if (!await this.connected(to, lane)) throw new Error(`not connected${lane.ok ? ` after ${this.init.timeoutMs} ms` : ''}`)
      if (this.stopped) return
      const started = timers.now()
      await this.components.communicator.unicast(msg, to)
      if (!lane.ok) log.info(`Replica ${this.init.self} can send to replica ${replica} again`)
      lane.ok = true
      const took = timers.now() - started
      // Only the first slow send in a row is worth a warning.
      if (took > this.init.timeoutMs && !lane.slow) log.warn(`Replica ${this.init.self} took ${Math.round(took)} ms to send to replica ${replica} (it reads slowly)`)
      lane.slow = took > this.init.timeoutMs
    } catch (err) {
      // Only the first failure in a row is worth a warning.
      if (lane.ok) log.warn(`Replica ${this.init.self} could not send to replica ${replica}: ${errorMessage(err)}`)
      lane.ok = false
    }
  }
}
