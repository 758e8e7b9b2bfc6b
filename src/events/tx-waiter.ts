import type { Transaction } from '../protos/fabric_pb.ts'
import type { Scheduler } from '../util/scheduler.ts'

/** A transaction that will not be in the chain (rejected), or was not seen there in time. */
export class TransactionFailedError extends Error {
  override name = 'TransactionFailedError'
  constructor (readonly txid: string, message: string, readonly rejected: boolean) { super(message) }
}

/** Where a waiter learns of blocks, rejections and already committed transactions. */
export interface TxWaiterSources {
  onBlock (listener: (b: { number: number, block: { transactions: Transaction[] } }) => void): () => void
  /** REJECTION as the executing peer reports it (this peer's hub on a validator). */
  onRejection (listener: (txid: string, error: string) => void): () => void
  /** The block already holding `txid`, if any. */
  blockOf (txid: string): Promise<number | undefined>
  scheduler: Scheduler
}

interface Waiter { resolve: (block: number) => void, reject: (err: TransactionFailedError) => void }

/**
 * Waits for transactions to reach the chain: resolves with the number of the block that holds
 * one, rejects when the executing peer rejects it (with its reason) or when it is not in the
 * chain within the timeout. This is what "--wait" means: Fabric's OK only says the transaction
 * was accepted into the queue.
 */
export class TxWaiter {
  private readonly waiters = new Map<string, Set<Waiter>>()
  private readonly unsubscribe: Array<() => void>

  constructor (private readonly sources: TxWaiterSources) {
    this.unsubscribe = [
      sources.onBlock(({ number, block }) => {
        for (const tx of block.transactions) this.settle(tx.txid, w => { w.resolve(number) })
      }),
      sources.onRejection((txid, error) => {
        this.settle(txid, w => { w.reject(new TransactionFailedError(txid, `transaction ${txid} was rejected: ${error}`, true)) })
      })
    ]
  }

  /**
   * Starts waiting for `txid`; call before submitting, so that a fast commit is not missed.
   * `timeoutMs` counts from this call.
   */
  waitFor (txid: string, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let set = this.waiters.get(txid)
      if (set === undefined) this.waiters.set(txid, set = new Set())
      const timer = this.sources.scheduler.schedule(timeoutMs, () => {
        w.reject(new TransactionFailedError(txid, `transaction ${txid} was accepted but is not in the chain after ${timeoutMs} ms`, false))
      })
      const w: Waiter = {
        resolve: n => { done(); resolve(n) },
        reject: err => { done(); reject(err) }
      }
      const done = (): void => {
        timer.cancel()
        set.delete(w)
        if (set.size === 0 && this.waiters.get(txid) === set) this.waiters.delete(txid)
      }
      set.add(w)
      // It may be in the chain already (a retry, or a wait that starts late).
      this.sources.blockOf(txid).then(n => { if (n !== undefined && set.has(w)) w.resolve(n) }, () => {})
    })
  }

  /** Ends every wait (the peer is stopping). */
  close (): void {
    for (const u of this.unsubscribe.splice(0)) u()
    for (const [txid] of this.waiters) {
      this.settle(txid, w => { w.reject(new TransactionFailedError(txid, `the peer stopped before transaction ${txid} reached the chain`, false)) })
    }
  }

  private settle (txid: string, fn: (w: Waiter) => void): void {
    const set = this.waiters.get(txid)
    if (set !== undefined) for (const w of [...set]) fn(w)
  }
}
