import { Channel } from './channel.ts'
import type { Scheduler } from '../util/scheduler.ts'

/**
 * The outstanding request of one kind (blocks, snapshot or deltas) to one peer: answers that
 * carry its correlation id go to its channel; a new request abandons the previous one.
 */
export class SyncRequest<T> {
  private cid = 0n
  private current: Channel<T>

  constructor (private readonly capacity: number, private readonly scheduler: Scheduler) {
    this.current = this.reset()
  }

  get correlationId (): bigint { return this.cid }
  get channel (): Channel<T> { return this.current }

  matches (correlationId: bigint): boolean { return correlationId === this.cid }

  /** Closes the current channel (its reader sees the end) and opens a fresh one under a new id. */
  reset (): Channel<T> {
    this.current?.close()
    this.cid++
    this.current = new Channel<T>(this.capacity, this.scheduler)
    return this.current
  }

  close (): void { this.current.close() }
}
