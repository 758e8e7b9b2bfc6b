import type { EventHub } from '../events/hub.ts'
import type { Transaction } from '../protos/fabric_pb.ts'
import { LruMap } from '../util/lru.ts'
import type { Scheduler } from '../util/scheduler.ts'

/**
 * Transactions this peer rejected: each one goes out as a REJECTION event and to the listeners
 * (the transaction waiters), and the last ones are remembered so a client that did not wait can
 * still learn why.
 */
export class Rejections {
  private readonly listeners = new Set<(txid: string, error: string) => void>()
  private readonly recent = new LruMap<string, { error: string, at: number }>(10_000)

  constructor (private readonly hub: EventHub, private readonly scheduler: Scheduler) {}

  readonly report = (tx: Transaction, error: string): void => {
    this.recent.set(tx.txid, { error, at: this.scheduler.now() })
    this.hub.publishRejection(tx, error)
    for (const l of this.listeners) l(tx.txid, error)
  }

  onRejection (listener: (txid: string, error: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Why `txid` was rejected and when, if it was among the recent ones. */
  get (txid: string): { error: string, at: number } | undefined { return this.recent.get(txid) }
}
