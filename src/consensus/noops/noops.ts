import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import type { Timestamp } from '@bufbuild/protobuf/wkt'
import {
  MessageSchema, Message_Type, PeerEndpoint_Type, TransactionBlockSchema, TransactionSchema, type Message, type PeerID, type Transaction
} from '../../protos/fabric_pb.ts'
import { transactionBlockBytes } from '../../peer/messages.ts'
import { createLogger } from '../../util/logger.ts'
import type { Scheduler, TimerHandle } from '../../util/scheduler.ts'
import type { Consenter, Stack } from '../interfaces.ts'
import type { NoopsConfig } from './config.ts'
import { errorMessage } from '../../util/errors.ts'

const log = createLogger('consensus/noops')

export interface NoopsComponents {
  stack: Stack
  scheduler: Scheduler
}

/**
 * Fabric's noops: no ordering at all. A transaction from a client is broadcast to every other
 * validator as a CONSENSUS TransactionBlock and queued here; each validator cuts its own blocks
 * from its queue when it holds `block.size` transactions or `block.wait` after the first arrived
 * (`block.wait` 0: as soon as the queue goes idle). Fabric's noops also sends each block to the
 * non-validators (SYNC_BLOCK_ADDED); in Weft the peer does that for every block, whatever the plugin.
 */
export class Noops implements Consenter {
  private queue: Transaction[] = []
  private timer?: TimerHandle
  private inFlight?: { tag: number, size: number }
  private cutWanted = false
  private tags = 0
  private stopped = false
  /** Clients waiting for room in a full queue, first come first served. */
  private readonly waiting: Array<() => void> = []

  constructor (private readonly config: NoopsConfig, private readonly components: NoopsComponents) {
    log.info(`NOOPS block size = ${config.blockSize}, block wait = ${config.blockWaitMs === 0 ? 'none (cut when idle)' : `${config.blockWaitMs} ms`}`)
  }

  start (): void {}

  async stop (): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    this.timer = undefined
    this.admitWaiting()
  }

  async room (): Promise<void> {
    // Admitted clients enqueue in the same microtask run, before any newcomer is heard.
    if (this.waiting.length === 0 && this.queue.length < this.admissionLimit) return
    await new Promise<void>((resolve, reject) => {
      const timer = this.components.scheduler.schedule(this.config.admissionWaitMs, () => {
        const at = this.waiting.indexOf(admit)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(new Error(`noops transaction queue full (${this.queue.length} waiting; no room within ${this.config.admissionWaitMs} ms)`))
      })
      const admit = (): void => { timer.cancel(); resolve() }
      this.waiting.push(admit)
    })
  }

  /** Clients are taken while fewer than a block waits (see NoopsConfig.queueLimit). */
  private get admissionLimit (): number { return Math.min(this.config.blockSize, this.config.queueLimit) }

  /** Lets in as many waiting clients as the queue has room for (all of them once stopped). */
  private admitWaiting (): void {
    let room = this.stopped ? this.waiting.length : this.admissionLimit - this.queue.length
    while (room-- > 0 && this.waiting.length > 0) this.waiting.shift()!()
  }

  /** Transactions waiting for a block. */
  get queued (): number { return this.queue.length }

  recvMsg (msg: Message, sender: PeerID): void {
    if (this.stopped) throw new Error('noops consenter is stopped')
    if (msg.type === Message_Type.CHAIN_TRANSACTION) {
      let tx: Transaction
      try {
        tx = fromBinary(TransactionSchema, msg.payload)
      } catch (err) {
        throw new Error(`Error unmarshalling payload of received Message: CHAIN_TRANSACTION (${(err as Error).message})`)
      }
      this.take(tx, () => msg.payload, msg.timestamp)
      return
    }
    if (msg.type === Message_Type.CONSENSUS) {
      let txs: Transaction[]
      try {
        txs = fromBinary(TransactionBlockSchema, msg.payload).transactions
      } catch (err) {
        throw new Error(`Error unmarshalling CONSENSUS TransactionBlock from ${sender.name}: ${(err as Error).message}`)
      }
      if (txs.length === 0) throw new Error(`CONSENSUS TransactionBlock from ${sender.name} holds no transaction`)
      this.checkRoom(txs.length, txs[0].txid)
      this.enqueue(txs)
      return
    }
    throw new Error(`noops cannot handle message type ${Message_Type[msg.type] ?? msg.type}`)
  }

  submit (tx: Transaction, timestamp: Timestamp): void {
    if (this.stopped) throw new Error('noops consenter is stopped')
    this.take(tx, () => toBinary(TransactionSchema, tx), timestamp)
  }

  /** Queues a client's transaction and sends it on to the other validators; `bytes` only when one is there. */
  private take (tx: Transaction, bytes: () => Uint8Array, timestamp: Timestamp | undefined): void {
    this.checkRoom(1, tx.txid)
    const { communicator } = this.components.stack
    if (communicator.reaches?.(PeerEndpoint_Type.VALIDATOR) !== false) {
      const out = create(MessageSchema, { type: Message_Type.CONSENSUS, payload: transactionBlockBytes([bytes()]), timestamp })
      communicator.broadcast(out, PeerEndpoint_Type.VALIDATOR)
        .catch(err => log.error(`Failed to broadcast transaction ${tx.txid} to validators: ${errorMessage(err)}`))
    }
    this.enqueue([tx])
  }

  private checkRoom (n: number, txid: string): void {
    if (this.queue.length + n > this.config.queueLimit) {
      throw new Error(`noops transaction queue full (${this.queue.length} waiting), rejecting transaction ${txid}`)
    }
  }

  private enqueue (txs: Transaction[]): void {
    const wasEmpty = this.queue.length === 0
    this.queue.push(...txs)
    if (this.queue.length >= this.config.blockSize) this.cut()
    else if (wasEmpty) this.arm()
  }

  private arm (): void {
    if (this.timer !== undefined) return
    this.timer = this.components.scheduler.schedule(this.config.blockWaitMs, () => {
      this.timer = undefined
      this.cut()
    })
  }

  /** Cuts a block now, or as soon as the one being executed is committed. */
  private cut (): void {
    this.timer?.cancel()
    this.timer = undefined
    if (this.stopped || this.queue.length === 0) return
    if (this.inFlight !== undefined) {
      this.cutWanted = true
      return
    }
    this.cutWanted = false
    const txs = this.queue.splice(0, this.config.blockSize)
    this.admitWaiting()
    this.inFlight = { tag: ++this.tags, size: txs.length }
    log.debug(`executing batch ${this.inFlight.tag} of ${txs.length} transactions`)
    try {
      this.components.stack.executor.execute(this.inFlight.tag, txs)
    } catch (err) {
      this.executionFailed(this.inFlight.tag, err as Error)
    }
  }

  private next (): void {
    this.inFlight = undefined
    if (this.cutWanted || this.queue.length >= this.config.blockSize) this.cut()
    else if (this.queue.length > 0) this.arm()
  }

  executed (tag: unknown): void {
    try {
      this.components.stack.executor.commit(tag, undefined)
    } catch (err) {
      this.executionFailed(tag, err as Error)
    }
  }

  committed (): void {
    this.next()
  }

  rolledBack (): void {}
  stateUpdated (): void {}

  executionFailed (tag: unknown, err: Error): void {
    log.error(`batch ${String(tag)} of ${this.inFlight?.size ?? 0} transactions was not committed: ${errorMessage(err)}`)
    this.next()
  }
}
