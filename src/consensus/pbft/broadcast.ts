import type { Message, PeerID } from '../../protos/fabric_pb.ts'
import { createLogger } from '../../util/logger.ts'
import type { Scheduler } from '../../util/scheduler.ts'
import type { Communicator } from '../interfaces.ts'
import { errorMessage } from '../../util/errors.ts'

const log = createLogger('consensus/pbft')

export interface BroadcasterInit {
  self: number
  N: number
  /** general.timeout.broadcast: how long one send may take before the next is tried. */
  timeoutMs: number
  /** Messages that may wait per replica; more are dropped with a warning. */
  queueSize: number
}

export interface BroadcasterComponents {
  communicator: Communicator
  timers: Scheduler
  handleOf: (replica: number) => PeerID
}

interface Lane { waiting: Message[], busy: boolean, ok: boolean, dropping: boolean }

/**
 * Fabric's pbft broadcaster: one ordered lane per replica, so a slow or absent replica delays
 * only its own messages. Fabric blocks the PBFT thread while a lane is full; an event loop cannot
 * block, so a full lane drops the message (PBFT recovers lost messages by its timers) and says so.
 */
export class Broadcaster {
  private readonly lanes = new Map<number, Lane>()
  private stopped = false

  constructor (private readonly init: BroadcasterInit, private readonly components: BroadcasterComponents) {
    for (let i = 0; i < init.N; i++) {
      if (i !== init.self) this.lanes.set(i, { waiting: [], busy: false, ok: true, dropping: false })
    }
  }

  broadcast (msg: Message): void {
    for (const replica of this.lanes.keys()) this.unicast(msg, replica)
  }

  unicast (msg: Message, replica: number): void {
    if (this.stopped) return
    const lane = this.lanes.get(replica)
    if (lane === undefined) {
      log.warn(`Replica ${this.init.self} cannot send to replica ${replica}: not one of the ${this.init.N} replicas`)
      return
    }
    if (lane.waiting.length >= this.init.queueSize) {
      if (!lane.dropping) log.warn(`Replica ${this.init.self} send queue to replica ${replica} full (${this.init.queueSize} messages), dropping messages`)
      lane.dropping = true
      return
    }
    lane.dropping = false
    lane.waiting.push(msg)
    if (!lane.busy) void this.drain(replica, lane)
  }

  stop (): void {
    this.stopped = true
    for (const lane of this.lanes.values()) lane.waiting.length = 0
  }

  private async drain (replica: number, lane: Lane): Promise<void> {
    lane.busy = true
    try {
      while (lane.waiting.length > 0 && !this.stopped) await this.send(replica, lane, lane.waiting.shift()!)
    } finally {
      lane.busy = false
    }
  }

  private async send (replica: number, lane: Lane, msg: Message): Promise<void> {
    let timer: { cancel (): void } | undefined
    const timeout = new Promise<'timeout'>(resolve => { timer = this.components.timers.schedule(this.init.timeoutMs, () => resolve('timeout')) })
    try {
      const outcome = await Promise.race([this.components.communicator.unicast(msg, this.components.handleOf(replica)), timeout])
      if (outcome === 'timeout') throw new Error(`send did not complete within ${this.init.timeoutMs} ms`)
      if (!lane.ok) log.info(`Replica ${this.init.self} can send to replica ${replica} again`)
      lane.ok = true
    } catch (err) {
      // Only the first failure in a row is worth a warning.
      if (lane.ok) log.warn(`Replica ${this.init.self} could not send to replica ${replica}: ${errorMessage(err)}`)
      lane.ok = false
    } finally {
      timer?.cancel()
    }
  }
}
