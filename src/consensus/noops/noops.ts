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

/** The block being built: its transactions go to the executor as they arrive, in order. */
interface OpenBlock {
  tag: number
  /** Transactions handed to the executor so far. */
  sent: number
  /** How many it will hold: block.size, or fewer once block.wait has passed. */
  limit: number
  executing: boolean
  /** Its commit has been asked for. */
  committing: boolean
}

/**
 * Fabric's noops: no ordering at all. A transaction from a client is broadcast to every other
 * validator as a CONSENSUS TransactionBlock and queued here; each validator cuts its own blocks
 * from its queue: `block.size` transactions, or fewer once `block.wait` has passed since the
 * first of them arrived (`block.wait` 0: as soon as the queue goes idle). Fabric's noops also
 * sends each block to the non-validators (SYNC_BLOCK_ADDED); in Weft the peer does that for every
 * block, whatever the plugin.
 *
 * Unlike Fabric, which executes a block only once it is cut, a block's transactions are executed
 * as they arrive, in order, into the block's ledger batch (the executor takes several executes
 * before a commit), and the block is committed once it is cut and all of it has run: the same
 * blocks, with the same transactions in the same order, but no transaction waits for the rest of
 * its block to arrive before it runs, and the chaincode is not idle while a block fills.
 */
export class Noops implements Consenter {
  /** Transactions not yet handed to the executor. */
  private queue: Transaction[] = []
  private timer?: TimerHandle
  private block?: OpenBlock
  /** The limit of the next block, when its block.wait passed while the previous one was being committed. */
  private nextLimit?: number
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

  /** Clients are taken while fewer than this many wait to be executed (see NoopsConfig.queueLimit). */
  private get admissionLimit (): number { return Math.min(this.config.blockSize, this.config.queueLimit, admissionQueue) }

  /** Lets in as many waiting clients as the queue has room for (all of them once stopped). */
  private admitWaiting (): void {
    let room = this.stopped ? this.waiting.length : this.admissionLimit - this.queue.length
    while (room-- > 0 && this.waiting.length > 0) this.waiting.shift()!()
  }

  /** Transactions waiting to be executed. */
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
    // The first transaction of a block starts its block.wait (a running timer is the open block's).
    if (this.timer === undefined && this.queue.length === 0 && (this.block === undefined || this.block.committing)) this.arm()
    this.queue.push(...txs)
    this.pump()
  }

  private arm (): void {
    // block.wait 0 needs no timer: a block is cut whenever nothing more waits (pump).
    if (this.config.blockWaitMs === 0) return
    this.timer = this.components.scheduler.schedule(this.config.blockWaitMs, () => {
      this.timer = undefined
      this.waitOver()
    })
  }

  /** block.wait has passed: the block takes what has arrived so far, and no more. */
  private waitOver (): void {
    const block = this.block
    if (block !== undefined && !block.committing) block.limit = Math.min(block.limit, block.sent + this.queue.length)
    // Its first transactions waited behind the previous block's commit.
    else if (this.queue.length > 0) this.nextLimit = Math.min(this.config.blockSize, this.queue.length)
    this.pump()
  }

  /** Hands what has arrived to the executor, or commits the block once all of it has run. */
  private pump (): void {
    if (this.stopped) return
    if (this.block === undefined) {
      if (this.queue.length === 0) return
      this.block = { tag: ++this.tags, sent: 0, limit: this.nextLimit ?? this.config.blockSize, executing: false, committing: false }
      this.nextLimit = undefined
    }
    const block = this.block
    if (block.executing || block.committing) return
    if (block.sent < block.limit && this.queue.length > 0) {
      const txs = this.queue.splice(0, block.limit - block.sent)
      block.sent += txs.length
      block.executing = true
      this.admitWaiting()
      log.debug(`executing ${txs.length} transactions of batch ${block.tag}`)
      try {
        this.components.stack.executor.execute(block.tag, txs)
      } catch (err) {
        this.executionFailed(block.tag, err as Error)
      }
      return
    }
    if (this.config.blockWaitMs === 0) block.limit = block.sent
    if (block.sent < block.limit) return
    block.committing = true
    this.timer?.cancel()
    this.timer = undefined
    // What arrived beyond this block starts the next one's block.wait.
    if (this.queue.length > 0) this.arm()
    try {
      this.components.stack.executor.commit(block.tag, undefined)
    } catch (err) {
      this.executionFailed(block.tag, err as Error)
    }
  }

  executed (tag: unknown): void {
    const block = this.block
    if (block === undefined || block.tag !== tag) return
    block.executing = false
    this.pump()
  }

  committed (): void {
    this.block = undefined
    this.pump()
  }

  rolledBack (): void {}
  stateUpdated (): void {}

  executionFailed (tag: unknown, err: Error): void {
    // The executor dropped the block's whole batch: what ran of it is gone with it.
    log.error(`batch ${String(tag)} of ${this.block?.sent ?? 0} transactions was not committed: ${errorMessage(err)}`)
    if (this.block?.tag !== tag) return
    this.block = undefined
    this.timer?.cancel()
    this.timer = undefined
    if (this.queue.length > 0) this.arm()
    this.pump()
  }
}

/**
 * What may wait to be executed before a client waits for room: the executor takes all of it
 * after each run, so more would only queue up latency (Fabric's blocking channel keeps its own
 * short in the same way).
 */
const admissionQueue = 32
