import { Channel } from './channel.ts'
import type { Scheduler } from '../util/scheduler.ts'

/** One open request: its correlation id, the channel its answers go to, and how to end it. */
export interface OpenRequest<T> {
  readonly correlationId: bigint
  readonly channel: Channel<T>
  /** Ends the request: its channel closes and later answers under its id are ignored. */
  close (): void
}

/**
 * The outstanding requests of one kind (blocks, snapshot or deltas) to one peer: answers that
 * carry a request's correlation id go to its channel. As in Fabric, a new request abandons the
 * previous ones (reset); state transfer may also keep several block requests open at once (add).
 */
export class SyncRequest<T> {
  private cid = 0n
  private readonly open = new Map<bigint, Channel<T>>()
  private latest: Channel<T>

  constructor (private readonly capacity: number, private readonly scheduler: Scheduler) {
    this.latest = this.reset()
  }

  /** The id of the latest request. */
  get correlationId (): bigint { return this.cid }
  /** The channel of the latest request. */
  get channel (): Channel<T> { return this.latest }

  matches (correlationId: bigint): boolean { return this.open.has(correlationId) }

  /** The channel of the open request with that id. */
  channelOf (correlationId: bigint): Channel<T> | undefined { return this.open.get(correlationId) }

  /** Closes every open request (their readers see the end) and opens a fresh one under a new id. */
  reset (): Channel<T> {
    this.close()
    return this.add().channel
  }

  /** Opens one more request beside those still open. */
  add (): OpenRequest<T> {
    const correlationId = ++this.cid
    const channel = new Channel<T>(this.capacity, this.scheduler)
    this.open.set(correlationId, channel)
    this.latest = channel
    return { correlationId, channel, close: () => this.end(correlationId) }
  }

  /** Ends the request with that id. */
  end (correlationId: bigint): void {
    this.open.get(correlationId)?.close()
    this.open.delete(correlationId)
  }

  close (): void {
    for (const ch of this.open.values()) ch.close()
    this.open.clear()
  }
}
