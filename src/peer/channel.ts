import { TimeoutError, type Scheduler } from '../util/scheduler.ts'

/**
 * A bounded queue between the receive loop (producer) and a sync requester (consumer), as
 * Fabric's buffered Go channels: a non-blocking push fails when full, a blocking push waits
 * with a timeout, and close() ends it for the consumer once drained.
 */
export class Channel<T> {
  private readonly items: T[] = []
  private consumer?: () => void
  private producer?: () => void
  private isClosed = false

  constructor (readonly capacity: number, private readonly scheduler: Scheduler) {
    if (!(capacity > 0)) throw new RangeError(`channel capacity must be positive, got ${capacity}`)
  }

  get closed (): boolean { return this.isClosed }
  get length (): number { return this.items.length }

  /** Queues `value` unless the channel is full or closed. */
  tryPush (value: T): boolean {
    if (this.isClosed || this.items.length >= this.capacity) return false
    this.items.push(value)
    this.wakeConsumer()
    return true
  }

  /** Waits up to `timeoutMs` for room; false when it timed out or the channel closed. */
  async push (value: T, timeoutMs: number): Promise<boolean> {
    if (this.tryPush(value)) return true
    if (this.isClosed) return false
    const room = await this.wait(timeoutMs, resolve => { this.producer = resolve }, () => { this.producer = undefined })
    return room && this.tryPush(value)
  }

  /** The next value; undefined once closed and drained; TimeoutError after `timeoutMs` of nothing. */
  async next (timeoutMs: number): Promise<T | undefined> {
    while (true) {
      if (this.items.length > 0) {
        const v = this.items.shift() as T
        this.producer?.()
        this.producer = undefined
        return v
      }
      if (this.isClosed) return undefined
      const woke = await this.wait(timeoutMs, resolve => { this.consumer = resolve }, () => { this.consumer = undefined })
      if (!woke) throw new TimeoutError(`nothing received for ${timeoutMs} ms`)
    }
  }

  close (): void {
    if (this.isClosed) return
    this.isClosed = true
    this.wakeConsumer()
    this.producer?.()
    this.producer = undefined
  }

  private wakeConsumer (): void {
    this.consumer?.()
    this.consumer = undefined
  }

  /** Resolves true when woken, false on timeout. */
  private wait (timeoutMs: number, register: (wake: () => void) => void, unregister: () => void): Promise<boolean> {
    return new Promise(resolve => {
      const timer = this.scheduler.schedule(timeoutMs, () => { unregister(); resolve(false) })
      register(() => { timer.cancel(); resolve(true) })
    })
  }
}
