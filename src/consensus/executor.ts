import { create } from '@bufbuild/protobuf'
import { TransactionResultSchema, type BlockchainInfo, type PeerID, type Transaction, type TransactionResult } from '../protos/fabric_pb.ts'
import type { Ledger } from '../ledger/ledger.ts'
import { createLogger } from '../util/logger.ts'
import type { Scheduler } from '../util/scheduler.ts'
import { StateTransferError, type ExecutionConsumer, type Executor, type StateTransfer, type TxExecutor } from './interfaces.ts'
import { errorMessage } from '../util/errors.ts'

/** PBFT config.yaml executor.queuesize. */
export const defaultExecutorQueueSize = 30

export interface ExecutorInit {
  /** How many operations may wait (executor.queuesize); one more is refused with an error. */
  queueSize?: number
  /** Attempts at a recoverable state transfer before reporting failure (the first uses the given peers, later ones any peer). */
  stateTransferAttempts?: number
  /** Pause between state transfer attempts. */
  stateTransferRetryMs?: number
  /** For logs (e.g. the replica name). */
  name?: string
  /** Run a txid at most once (default); false runs every ordered transaction, as Fabric does. */
  executeOnce?: boolean
}

export interface ExecutorComponents {
  ledger: Pick<Ledger, 'beginTxBatch' | 'commitTxBatch' | 'rollbackTxBatch' | 'getBlockchainInfo' | 'hasTransactions'>
  executeTransactions: TxExecutor
  stateTransfer: StateTransfer
  consumer: ExecutionConsumer
  scheduler: Scheduler
}

type Op =
  | { kind: 'execute', tag: unknown, txs: Transaction[] }
  | { kind: 'commit', tag: unknown, metadata: Uint8Array | undefined }
  | { kind: 'rollback', tag: unknown }
  | { kind: 'updateState', tag: unknown, target: BlockchainInfo, peers: PeerID[] | undefined }

/**
 * Fabric's consensus/executor: one ledger batch at a time, in the order asked. Execute opens a
 * batch (begin) and runs transactions into it, commit writes it as a block, rollback drops it;
 * updateState rolls back any open batch and brings the ledger to a target through state transfer.
 * Results come back through the ExecutionConsumer callbacks.
 *
 * A transaction whose txid is already on the chain (or earlier in the batch) is not run again but
 * recorded as failed: a request retransmitted and ordered twice still executes once. The chain
 * is the same on every correct replica, so every replica skips the same ones, provided all of
 * them do: a Fabric replica runs it again, so a network with one turns executeOnce off.
 */
export class ConsensusExecutor implements Executor {
  private readonly queue: Op[] = []
  private readonly queueSize: number
  private readonly attempts: number
  private readonly retryMs: number
  private readonly executeOnce: boolean
  private readonly log
  private running?: Promise<void>
  private started = false
  private stopped = false
  private readonly abort = new AbortController()
  private batchId = 0
  /** `txids`: those of `succeeded`, for the duplicate check. */
  private batch?: { id: number, succeeded: Transaction[], txids: Set<string>, results: TransactionResult[] }
  private skipInProgress = false

  constructor (init: ExecutorInit, private readonly components: ExecutorComponents) {
    this.queueSize = init.queueSize ?? defaultExecutorQueueSize
    if (!Number.isSafeInteger(this.queueSize) || this.queueSize <= 0) throw new Error(`executor.queuesize must be a positive integer, got ${this.queueSize}`)
    this.attempts = init.stateTransferAttempts ?? 10
    this.retryMs = init.stateTransferRetryMs ?? 1000
    this.executeOnce = init.executeOnce ?? true
    this.log = createLogger(`consensus/executor${init.name !== undefined ? ' ' + init.name : ''}`)
  }

  start (): void {
    if (this.stopped) throw new Error('executor was stopped and cannot restart')
    this.started = true
    this.kick()
  }

  /** Stops taking operations, abandons queued ones and waits for the one in progress (whose callback is dropped). */
  async stop (): Promise<void> {
    this.stopped = true
    this.queue.length = 0
    this.abort.abort(new Error('executor stopped'))
    await this.running
    if (this.batch !== undefined) this.rollbackBatch()
  }

  /** Operations waiting or running (0 = idle). */
  get pending (): number { return this.queue.length + (this.running !== undefined ? 1 : 0) }

  execute (tag: unknown, txs: Transaction[]): void { this.enqueue({ kind: 'execute', tag, txs }) }
  commit (tag: unknown, metadata: Uint8Array | undefined): void { this.enqueue({ kind: 'commit', tag, metadata }) }
  rollback (tag: unknown): void { this.enqueue({ kind: 'rollback', tag }) }
  updateState (tag: unknown, target: BlockchainInfo, peers: PeerID[] | undefined): void {
    this.enqueue({ kind: 'updateState', tag, target, peers })
  }

  private enqueue (op: Op): void {
    if (this.stopped) throw new Error(`executor stopped, cannot ${op.kind}`)
    if (this.queue.length >= this.queueSize) {
      throw new Error(`executor queue full (${this.queueSize} operations waiting, executor.queuesize), rejecting ${op.kind}`)
    }
    this.queue.push(op)
    this.kick()
  }

  private kick (): void {
    // An empty queue would finish the loop before `running` is assigned, leaving it set for good.
    if (this.running !== undefined || !this.started || this.queue.length === 0) return
    this.running = this.loop()
  }

  private async loop (): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.stopped) await this.process(this.queue.shift()!)
    } finally {
      this.running = undefined
    }
  }

  private async process (op: Op): Promise<void> {
    const { consumer } = this.components
    const fail = (err: Error): void => {
      this.log.error(`${op.kind} failed: ${errorMessage(err)}`)
      if (!this.stopped) consumer.executionFailed(op.tag, err)
    }
    if (op.kind !== 'updateState' && this.skipInProgress) {
      fail(new Error(`cannot ${op.kind} while the ledger is being brought to a state transfer target`))
      return
    }
    switch (op.kind) {
      case 'execute': {
        try {
          if (this.batch === undefined) {
            this.batch = { id: ++this.batchId, succeeded: [], txids: new Set(), results: [] }
            this.components.ledger.beginTxBatch(this.batch.id)
          }
          await this.executeNew(this.batch, op.txs)
        } catch (err) {
          this.rollbackBatch()
          fail(err as Error)
          return
        }
        if (!this.stopped) consumer.executed(op.tag)
        return
      }
      case 'commit': {
        const batch = this.batch
        if (batch === undefined) { fail(new Error('no transaction batch to commit')); return }
        this.batch = undefined
        let info: BlockchainInfo
        try {
          await this.components.ledger.commitTxBatch(batch.id, batch.succeeded, batch.results, op.metadata)
          info = await this.components.ledger.getBlockchainInfo()
        } catch (err) {
          fail(err as Error)
          return
        }
        this.log.debug(`committed block ${info.height - 1n}`)
        if (!this.stopped) consumer.committed(op.tag, info)
        return
      }
      case 'rollback': {
        if (this.batch === undefined) { fail(new Error('no transaction batch to roll back')); return }
        this.rollbackBatch()
        if (!this.stopped) consumer.rolledBack(op.tag)
        return
      }
      case 'updateState':
        await this.transferState(op)
    }
  }

  private async executeNew (batch: NonNullable<typeof this.batch>, txs: Transaction[]): Promise<void> {
    const seen = new Set<string>()
    const fresh: Transaction[] = []
    const duplicate = new Set<Transaction>()
    // The txid index read once for all of them: a read per transaction costs a store round trip each.
    const onChain = this.executeOnce ? await this.components.ledger.hasTransactions(txs.map(tx => tx.txid)) : undefined
    txs.forEach((tx, i) => {
      if (onChain !== undefined && (batch.txids.has(tx.txid) || seen.has(tx.txid) || (tx.txid !== '' && onChain[i]))) duplicate.add(tx)
      else fresh.push(tx)
      seen.add(tx.txid)
    })
    const { succeeded, results } = fresh.length > 0 ? await this.components.executeTransactions(fresh, batch) : { succeeded: [], results: [] }
    batch.succeeded.push(...succeeded)
    for (const tx of succeeded) batch.txids.add(tx.txid)
    // One result per transaction, in the order given.
    let next = 0
    for (const tx of txs) {
      if (duplicate.has(tx)) {
        this.log.warn(`transaction ${tx.txid} is already on the chain, not executing it again`)
        batch.results.push(create(TransactionResultSchema, { txid: tx.txid, error: `duplicate transaction ${tx.txid}`, errorCode: 1 }))
      } else {
        batch.results.push(results[next++])
      }
    }
  }

  private async transferState (op: Extract<Op, { kind: 'updateState' }>): Promise<void> {
    if (this.batch !== undefined) this.rollbackBatch()
    this.skipInProgress = true
    const blockNumber = Number(op.target.height) - 1
    let peers = op.peers
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.components.stateTransfer.syncToTarget(blockNumber, op.target.currentBlockHash, peers, this.abort.signal)
        this.skipInProgress = false
        if (!this.stopped) this.components.consumer.stateUpdated(op.tag, op.target)
        return
      } catch (err) {
        if (this.stopped) return
        const recoverable = err instanceof StateTransferError && err.recoverable
        if (!recoverable || attempt >= this.attempts) {
          this.log.warn(`state transfer to block ${blockNumber} failed${recoverable ? ` after ${attempt} attempts` : ''}: ${errorMessage(err)}`)
          this.components.consumer.stateUpdated(op.tag, undefined)
          return
        }
        this.log.info(`state transfer to block ${blockNumber} did not complete, trying again with any peer: ${errorMessage(err)}`)
        peers = undefined
        await this.sleep(this.retryMs)
      }
    }
  }

  private rollbackBatch (): void {
    const batch = this.batch
    this.batch = undefined
    if (batch === undefined) return
    try {
      this.components.ledger.rollbackTxBatch(batch.id)
    } catch (err) {
      this.log.error(`rolling back batch ${batch.id} failed: ${errorMessage(err)}`)
    }
  }

  private async sleep (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const h = this.components.scheduler.schedule(ms, resolve)
      this.abort.signal.addEventListener('abort', () => { h.cancel(); resolve() }, { once: true })
    })
  }
}

export function createExecutor (init: ExecutorInit, components: ExecutorComponents): ConsensusExecutor {
  return new ConsensusExecutor(init, components)
}
