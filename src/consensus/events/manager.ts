import { createLogger, type Logger } from '../../util/logger.ts'
import type { Scheduler, TimerHandle } from '../../util/scheduler.ts'

/**
 * A serial event loop (Fabric's consensus/util/events): a receiver gets one event at a time;
 * whatever it returns is processed next, before anything else queued. Events queued while an
 * event is being processed wait their turn, so handlers never re-enter each other.
 */
export type Receiver<E> = (event: E) => E | undefined

export class EventManager<E> {
  private readonly pending: E[] = []
  private draining = false
  private stopped = false
  private readonly log: Logger

  constructor (private readonly receiver: Receiver<E>, name = 'consensus/events') {
    this.log = createLogger(name)
  }

  /** Adds an event; it is processed now if the loop is idle, else after those already queued. */
  queue (event: E): void {
    if (this.stopped) {
      this.log.debug('event manager stopped, dropping event')
      return
    }
    this.pending.push(event)
    if (this.draining) return
    this.draining = true
    try {
      while (this.pending.length > 0 && !this.stopped) this.inject(this.pending.shift()!)
    } finally {
      this.draining = false
    }
  }

  /** Processes an event immediately, skipping the queue: only for use by the receiver itself. */
  inject (event: E): void {
    let next: E | undefined = event
    while (next !== undefined && !this.stopped) next = this.receiver(next)
  }

  get isStopped (): boolean { return this.stopped }

  stop (): void {
    this.stopped = true
    this.pending.length = 0
  }
}

/**
 * A timer that delivers an event into an EventManager (Fabric's events.Timer). Once stopped or
 * reset, an earlier countdown never delivers, even if it already expired.
 */
export class EventTimer<E> {
  private handle?: TimerHandle

  constructor (private readonly scheduler: Scheduler, private readonly manager: EventManager<E>) {}

  /** Starts a countdown unless one is already running. */
  softReset (delayMs: number, event: E): void {
    if (this.handle !== undefined) return
    this.reset(delayMs, event)
  }

  /** Starts a new countdown, discarding any running one. */
  reset (delayMs: number, event: E): void {
    this.stop()
    const handle = this.scheduler.schedule(delayMs, () => {
      if (this.handle !== handle) return
      this.handle = undefined
      this.manager.queue(event)
    })
    this.handle = handle
  }

  stop (): void {
    this.handle?.cancel()
    this.handle = undefined
  }

  get running (): boolean { return this.handle !== undefined }
}
