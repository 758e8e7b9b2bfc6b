import type { ChaincodeEvent } from '../protos/chaincodeevent_pb.ts'
import type { Event, Interest } from '../protos/events_pb.ts'
import type { Block, Transaction } from '../protos/fabric_pb.ts'
import { createLogger } from '../util/logger.ts'
import { systemScheduler, type Scheduler, type TimerHandle } from '../util/scheduler.ts'
import { withoutCodePackages } from './code-package.ts'
import { blockEvent, chaincodeEvent, rejectionEvent } from './events.ts'
import { InterestRegistry, type EventConsumer } from './registry.ts'
import { errorMessage } from '../util/errors.ts'

export interface EventHubOptions {
  /** peer.validator.events.buffersize: events that may wait for delivery (0 = hand-over only). */
  bufferSize: number
  /** peer.validator.events.timeout in ms when the buffer is full: < 0 drop, 0 wait for room, > 0 wait that long. */
  timeoutMs: number
  /** Times the wait for room (default: the host's). */
  scheduler?: Scheduler
}

/** The buffer was full and the event was not taken (Fabric's producer.Send error text). */
export class EventBufferFullError extends Error {
  override name = 'EventBufferFullError'
  constructor () { super('could not send the blocking event') }
}

/** What the hub needs from the ledger: the commit notification. */
export interface BlockSource {
  onBlock (listener: (committed: { number: number, block: Block }) => void): () => void
}

interface Waiter { ev: Event, resolve: () => void, reject: (e: Error) => void, timer?: TimerHandle }

/**
 * Fabric's event producer: a bounded buffer of events, one processor delivering them in order
 * to the consumers whose interests match, and Send's full-buffer rule (drop / block / time out).
 * Platform-free; the gRPC and libp2p Events.Chat adapters and in-process listeners plug in as consumers.
 */
export class EventHub {
  readonly registry = new InterestRegistry()
  private readonly queue: Event[] = []
  private readonly waiters: Waiter[] = []
  private wake?: () => void
  private closed = false
  /** Whether the buffer-full warning was given since the buffer last had room. */
  private full = false
  private readonly log = createLogger('eventhub')
  /** Counters for metrics: events accepted, refused for a full buffer, and consumer deliveries. */
  readonly stats = { accepted: 0, refused: 0, delivered: 0 }
  private readonly scheduler: Scheduler

  constructor (private readonly options: EventHubOptions) {
    if (!Number.isInteger(options.bufferSize) || options.bufferSize < 0) throw new RangeError(`event buffer size must be a non-negative integer, got ${options.bufferSize}`)
    this.scheduler = options.scheduler ?? systemScheduler
    void this.run()
  }

  /** Queues an event for delivery; rejects per the timeout rule when the buffer stays full. */
  send (ev: Event): Promise<void> {
    if (this.closed) return Promise.reject(new Error('event hub is closed'))
    if (ev.Event.case === undefined) return Promise.reject(new Error('event not set'))
    const idle = this.wake !== undefined && this.queue.length === 0
    // Earlier senders still waiting keep their turn.
    if (this.waiters.length === 0 && (idle || this.queue.length < this.options.bufferSize)) {
      this.full = false
      this.enqueue(ev)
      return Promise.resolve()
    }
    const t = this.options.timeoutMs
    if (!this.full) {
      this.full = true
      this.log.warn(`event buffer full (peer.validator.events.buffersize ${this.options.bufferSize}): consumers are slow; ${t < 0 ? 'dropping events' : t === 0 ? 'producers wait for room' : `producers wait up to ${t} ms`}`)
    }
    if (t < 0) {
      this.stats.refused++
      return Promise.reject(new EventBufferFullError())
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { ev, resolve, reject }
      if (t > 0) {
        w.timer = this.scheduler.schedule(t, () => {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          this.stats.refused++
          reject(new EventBufferFullError())
        })
      }
      this.waiters.push(w)
    })
  }

  /** Sends and logs a refusal instead of returning it (for producers that cannot wait). */
  publish (ev: Event, what: string): void {
    this.send(ev).catch(err => this.log.warn(`${what} event not delivered: ${errorMessage(err)}`))
  }

  /** A transaction that failed to execute (the executor calls this; Fabric's sendTxRejectedEvent). */
  publishRejection (tx: Transaction, errorMsg: string): void {
    this.publish(rejectionEvent(tx, errorMsg), `rejection of ${tx.txid}`)
  }

  /** A committed block: the BLOCK event (code packages removed), then its chaincode events. */
  publishBlock (number: number, block: Block): void {
    const stripped = withoutCodePackages(block, (_tx, err) => this.log.error(`block ${number} event: ${errorMessage(err)}`))
    this.publish(blockEvent(stripped), `block ${number}`)
    for (const e of block.nonHashData?.chaincodeEvents ?? []) {
      // Transactions without an event leave an empty placeholder in nonHashData.
      if (e.chaincodeID !== '') this.publish(chaincodeEvent(e as ChaincodeEvent), `chaincode ${e.chaincodeID}/${e.eventName}`)
    }
  }

  /** Publishes every block the ledger commits or receives; returns the unsubscribe function. */
  attachLedger (ledger: BlockSource): () => void {
    return ledger.onBlock(({ number, block }) => this.publishBlock(number, block))
  }

  register (c: EventConsumer, interest: Interest): void { this.registry.add(interest, c) }
  deregister (c: EventConsumer, interest: Interest): void { this.registry.delete(interest, c) }

  /**
   * An in-process listener with the same filters as a remote one. Throws if an interest is
   * refused (nothing stays registered then); returns the function that removes it.
   */
  subscribe (interests: Interest[], listener: (ev: Event) => void | Promise<void>, name = 'in-process'): () => void {
    const consumer: EventConsumer = { name, deliver: async ev => { await listener(ev) } }
    const done: Interest[] = []
    try {
      for (const i of interests) { this.registry.add(i, consumer); done.push(i) }
    } catch (err) {
      for (const i of done) this.registry.delete(i, consumer)
      throw err
    }
    return () => { for (const i of done.splice(0)) this.registry.delete(i, consumer) }
  }

  get consumerCount (): number { return this.registry.size }
  get queued (): number { return this.queue.length + this.waiters.length }

  /** Stops delivery; events still queued are dropped and waiting senders are refused. */
  close (): void {
    if (this.closed) return
    this.closed = true
    for (const w of this.waiters.splice(0)) {
      w.timer?.cancel()
      w.reject(new Error('event hub is closed'))
    }
    if (this.queue.length > 0) this.log.warn(`event hub closed with ${this.queue.length} undelivered events`)
    this.queue.length = 0
    this.wake?.()
  }

  private enqueue (ev: Event): void {
    this.stats.accepted++
    this.queue.push(ev)
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private async run (): Promise<void> {
    while (!this.closed) {
      let ev = this.queue.shift()
      // A slot freed (or, with no buffer, the processor itself is free): the oldest waiting sender gets it.
      const w = this.waiters.shift()
      if (w !== undefined) {
        w.timer?.cancel()
        this.stats.accepted++
        if (ev === undefined) ev = w.ev
        else this.queue.push(w.ev)
        w.resolve()
      }
      if (ev === undefined) {
        await new Promise<void>(resolve => { this.wake = resolve })
        continue
      }
      await this.deliver(ev)
    }
  }

  private async deliver (ev: Event): Promise<void> {
    const consumers = this.registry.consumersOf(ev)
    await Promise.all(consumers.map(async c => {
      try {
        await c.deliver(ev)
        this.stats.delivered++
      } catch (err) {
        this.log.warn(`could not deliver ${ev.Event.case} event to ${c.name}: ${errorMessage(err)}`)
      }
    }))
  }
}
