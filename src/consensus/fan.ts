import type { Message, PeerID } from '../protos/fabric_pb.ts'
import { createLogger } from '../util/logger.ts'
import { errorMessage } from '../util/errors.ts'

const log = createLogger('consensus/fan')

/** Fabric's DefaultConsensusQueueSize: peer.validator.consensus.buffersize when unset or invalid. */
export const defaultConsensusQueueSize = 1000

/** Raised when a connection's consensus channel is full; names the sender. */
export class ChannelFullError extends Error {
  constructor (readonly sender: string, readonly capacity: number) {
    super(`Message channel for ${sender} full, rejecting (${capacity} messages waiting)`)
    this.name = 'ChannelFullError'
  }
}

export interface FanMessage {
  msg: Message
  sender: PeerID
}

/** One connection's bounded channel into the fan. */
export interface FanChannel {
  /** Queues a message; throws ChannelFullError when `capacity` of this channel's messages are waiting. */
  push (msg: Message, sender: PeerID): void
  /** Messages of this channel not yet taken by the consumer. */
  readonly length: number
  /** Takes no more messages; those waiting are still delivered. */
  close (): void
}

/**
 * Fabric's MessageFan: every connection gets a bounded channel, and all channels merge into one
 * input in arrival order. The consumer takes one message at a time and is awaited, so a slow
 * consumer fills the channels and senders see the rejection instead of unbounded memory.
 */
export class MessageFan {
  private readonly queue: Array<{ item: FanMessage, channel: ChannelState }> = []
  private consumer?: (m: FanMessage) => Promise<void> | void
  private pumping = false
  private stopped = false

  /** Sets who takes the merged messages and starts delivering. */
  start (consumer: (m: FanMessage) => Promise<void> | void): void {
    this.consumer = consumer
    this.stopped = false
    this.pump()
  }

  stop (): void {
    this.stopped = true
    this.consumer = undefined
  }

  /** Adds a channel for one connection; `name` identifies it in errors. */
  addChannel (name: string, capacity: number): FanChannel {
    if (!Number.isSafeInteger(capacity) || capacity <= 0) {
      log.error(`peer.validator.consensus.buffersize is set to ${capacity}, but this must be a positive integer, defaulting to ${defaultConsensusQueueSize}`)
      capacity = defaultConsensusQueueSize
    }
    const state: ChannelState = { waiting: 0, closed: false }
    const cap = capacity
    return {
      push: (msg, sender) => {
        if (state.closed) throw new Error(`consensus channel for ${name} is closed`)
        if (state.waiting >= cap) throw new ChannelFullError(sender.name !== '' ? sender.name : name, cap)
        state.waiting++
        this.queue.push({ item: { msg, sender }, channel: state })
        this.pump()
      },
      get length () { return state.waiting },
      close: () => { state.closed = true }
    }
  }

  /** Messages waiting across all channels. */
  get length (): number { return this.queue.length }

  private pump (): void {
    if (this.pumping || this.consumer === undefined) return
    this.pumping = true
    void this.drain()
  }

  private async drain (): Promise<void> {
    // Yield first, so a push returns to the receive loop before the consumer runs.
    try {
      await Promise.resolve()
      while (!this.stopped && this.queue.length > 0 && this.consumer !== undefined) {
        const { item, channel } = this.queue.shift()!
        channel.waiting--
        try {
          await this.consumer(item)
        } catch (err) {
          log.warn(`consensus message from ${item.sender.name} rejected: ${errorMessage(err)}`)
        }
      }
    } finally {
      // Same turn as the last emptiness check, so no push can slip in unseen.
      this.pumping = false
    }
  }
}

interface ChannelState { waiting: number, closed: boolean }
