import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { BlockchainInfoSchema, MessageSchema, Message_Type, TransactionSchema, type BlockchainInfo, type Message, type PeerID, type Transaction } from '../../protos/fabric_pb.ts'
import { createLogger } from '../../util/logger.ts'
import type { Random, Scheduler } from '../../util/scheduler.ts'
import { EventManager, EventTimer } from '../events/manager.ts'
import type { Consenter, Stack } from '../interfaces.ts'
import { handle, replicaIdOf, replicaName } from '../validators.ts'
import { Broadcaster } from './broadcast.ts'
import type { PbftConfig } from './config.ts'
import { PbftCore } from './core.ts'
import { Deduplicator } from './deduplicator.ts'
import type { BatchEvent, CoreEvent, StateTarget } from './events.ts'
import { decodeBatchMessage, decodePbftMessage, encodeMetadata, encodePbftEnvelope, encodePbftMessage, encodeRequestMessage, newRequestBatch, requestDigest, type PbftMessage, type Request, type RequestBatch } from './messages.ts'
import { PbftStore, type PersistedPbftState } from './persist.ts'
import { OwnRequests } from './own-requests.ts'
import { RequestStore } from './requeststore.ts'
import { replicaStatus, type PbftStatus } from './replica-status.ts'
import { errorMessage } from '../../util/errors.ts'

const log = createLogger('consensus/pbft')

/**
 * Messages that may wait per replica to be sent. Fabric's broadcaster holds 10 and blocks the PBFT
 * thread beyond; an event loop cannot block, so the lane is as deep as the receiver's consensus
 * channel (peer.validator.consensus.buffersize), past which the receiver would reject them anyway.
 */
export const defaultSendQueueSize = 1000

/** How long a client's transaction may wait for room, and how often room is looked for. */
const admissionWaitMs = 30_000
const admissionPollMs = 20

export interface PbftComponents {
  stack: Stack
  timers: Scheduler
  random: Random
  /** Called when PBFT finds a condition it cannot survive (Fabric panics); the replica has already stopped. */
  onFatal?: (err: Error) => void
}

/**
 * The batching PBFT consenter. Transactions become requests, broadcast to every replica; the
 * primary cuts batches (batchsize, or the batch timeout) and orders them with the PBFT core;
 * committed batches run through the executor and become blocks. Every input is an event on one
 * serial loop, so the replica is deterministic given its inputs.
 */
export interface PbftBatchStatus extends PbftStatus {
  /** Requests received and not yet executed (the queue depth). */
  outstandingRequests: number
  /** Requests still marked as in a batch though no longer outstanding (0 unless something is wrong). */
  stalePendingRequests: number
}

export class PbftBatch implements Consenter {
  private readonly core: PbftCore
  private readonly manager: EventManager<BatchEvent>
  private readonly broadcaster: Broadcaster
  private readonly batchTimer: EventTimer<BatchEvent>
  private readonly batchSize: number
  private readonly batchTimeout: number
  private batchStore: Request[] = []
  private reqStore = new RequestStore()
  private readonly own: OwnRequests
  private readonly ext: PbftConfig['extensions']
  private readonly retransmitTimer: EventTimer<BatchEvent>
  private readonly dedup = new Deduplicator()
  private lastInfo: BlockchainInfo
  private readonly stack: Stack
  private stopped = false

  constructor (readonly id: number, config: PbftConfig, private readonly components: PbftComponents,
    persisted: PersistedPbftState, lastExec: number, info: BlockchainInfo, sendQueueSize = defaultSendQueueSize) {
    this.stack = components.stack
    this.lastInfo = info
    this.ext = config.extensions
    this.batchSize = config.batchSize
    this.batchTimeout = config.timeouts.batch
    this.manager = new EventManager<BatchEvent>(e => this.processEvent(e), 'consensus/pbft')
    const timers = components.timers
    this.batchTimer = new EventTimer(timers, this.manager)
    this.retransmitTimer = new EventTimer(timers, this.manager)
    this.broadcaster = new Broadcaster(
      { self: id, N: config.N, timeoutMs: config.timeouts.broadcast, queueSize: sendQueueSize },
      { communicator: this.stack.communicator, timers, handleOf: r => handle(replicaName(r)) })
    this.core = new PbftCore({ id, config, lastExec, persisted }, {
      consumer: {
        broadcast: m => this.broadcaster.broadcast(this.wrap(m)),
        unicast: (m, r) => this.broadcaster.unicast(this.wrap(m), r),
        execute: (n, b) => this.execute(n, b),
        getState: () => toBinary(BlockchainInfoSchema, this.lastInfo),
        skipTo: t => this.skipTo(t),
        sign: d => this.stack.security.sign(d),
        verify: (r, sig, d) => this.stack.security.verify(handle(replicaName(r)), sig, d),
        invalidateState: () => this.stack.ledgerManager.invalidateState(),
        validateState: () => this.stack.ledgerManager.validateState()
      },
      store: new PbftStore(this.stack.persist, persisted),
      createTimer: () => new EventTimer(timers, this.manager),
      post: e => this.manager.queue(e),
      random: components.random,
      onFatal: err => this.fatal(err)
    })
    this.own = new OwnRequests({
      id,
      track: this.ext.retransmit,
      now: () => timers.now(),
      timeoutMs: this.core.state.requestTimeout,
      send: req => {
        this.reqStore.storeOutstanding(req)
        this.broadcastRequest(req)
      },
      isNew: req => this.dedup.isNew(req),
      arm: delayMs => this.retransmitTimer.reset(delayMs, { kind: 'retransmitTimer' }),
      disarm: () => this.retransmitTimer.stop()
    })
  }

  /** Starts by state transferring to its own state, which confirms the ledger and takes a checkpoint. */
  start (): void {
    const target: StateTarget = { seqNo: this.core.state.lastExec, id: toBinary(BlockchainInfoSchema, this.lastInfo), replicas: [] }
    this.manager.queue({ kind: 'work', fn: () => this.core.stateTransfer(target) })
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.manager.stop()
    this.batchTimer.stop()
    this.retransmitTimer.stop()
    this.core.state.timers.stopAll()
    this.broadcaster.stop()
    await this.stack.persist.flush().catch(err => log.error(`Replica ${this.id} stopped with unwritten PBFT state: ${errorMessage(err)}`))
  }

  recvMsg (msg: Message, sender: PeerID): void {
    if (this.stopped) throw new Error(`PBFT replica ${this.id} is stopped`)
    this.manager.queue({ kind: 'batchMessage', msg, sender })
  }

  executed (tag: unknown): void { this.manager.queue({ kind: 'executed', tag }) }
  committed (tag: unknown, info: BlockchainInfo): void { this.manager.queue({ kind: 'committed', tag, info }) }
  rolledBack (): void { this.manager.queue({ kind: 'rolledBack' }) }
  stateUpdated (tag: unknown, info: BlockchainInfo | undefined): void {
    this.manager.queue({ kind: 'stateUpdated', target: tag as StateTarget, info })
  }

  executionFailed (_tag: unknown, error: Error): void { this.manager.queue({ kind: 'executionFailed', error }) }

  /** Leaves the current view now, as if the request timer had expired (an operator's or a test's nudge). */
  requestViewChange (): void {
    this.manager.queue({
      kind: 'work',
      fn: () => {
        const next = this.core.sendViewChange()
        if (next !== undefined) this.manager.inject(next)
      }
    })
  }

  /** Requests this replica knows of that are not executed yet. */
  /** Where the replica stands: view, primary, sequence numbers, watermark, its request queue (a copy). */
  status (): PbftBatchStatus {
    return { ...replicaStatus(this.core.state), outstandingRequests: this.reqStore.outstanding.size, stalePendingRequests: this.reqStore.stalePending() }
  }

  /**
   * Holds a client's transaction while this replica knows of two batches' worth of unexecuted
   * requests, as Fabric's blocking event channel holds its clients: taking more only queues up
   * latency (tens of seconds under overload). Refused after admissionWaitMs without room.
   */
  async room (): Promise<void> {
    const limit = 2 * this.batchSize
    const timers = this.components.timers
    const deadline = timers.now() + admissionWaitMs
    while (this.reqStore.outstanding.size >= limit && !this.stopped) {
      if (timers.now() >= deadline) {
        throw new Error(`PBFT request queue full (${this.reqStore.outstanding.size} requests not executed yet; no room within ${admissionWaitMs} ms)`)
      }
      await new Promise<void>(resolve => { timers.schedule(admissionPollMs, resolve) })
    }
  }

  private fatal (err: Error): void {
    log.error(`Replica ${this.id} halting: ${errorMessage(err)}`)
    void this.stop()
    this.components.onFatal?.(err)
  }

  private processEvent (e: BatchEvent): BatchEvent | undefined {
    try {
      return this.handle(e)
    } catch (err) {
      log.error(`Replica ${this.id} failed handling ${e.kind}: ${(err as Error).stack ?? String(err)}`)
      return undefined
    }
  }

  private handle (e: BatchEvent): BatchEvent | undefined {
    switch (e.kind) {
      case 'batchMessage': return this.processMessage(e.msg, e.sender)
      case 'executed':
        this.stack.executor.commit(undefined, e.tag as Uint8Array)
        return
      case 'committed':
        this.lastInfo = e.info
        return { kind: 'execDone' }
      case 'execDone': return this.core.processEvent(e) ?? this.resubmitOutstandingReqs()
      case 'batchTimer':
        log.info(`Replica ${this.id} batch timer expired`)
        if (this.core.state.activeView && this.batchStore.length > 0) return this.sendBatch()
        return
      case 'commit': {
        const next = this.core.processEvent(e)
        this.startTimerIfOutstandingRequests()
        return next
      }
      case 'viewChanged': return this.viewChanged()
      case 'stateUpdated':
        // Whatever was outstanding may have executed while we were away.
        this.reqStore = new RequestStore()
        if (e.info !== undefined) {
          this.lastInfo = e.info
          if (this.ext.retransmit) void this.reconcileOwn(this.own.txids())
        }
        return this.core.processEvent(e)
      case 'retransmitTimer':
        this.own.retransmit()
        return this.resubmitOutstandingReqs()
      case 'rolledBack': return
      default: return this.core.processEvent(e as CoreEvent)
    }
  }

  private processMessage (msg: Message, sender: PeerID): BatchEvent | undefined {
    if (msg.type === Message_Type.CHAIN_TRANSACTION) return this.submitToLeader(this.own.make(msg.payload))
    if (msg.type !== Message_Type.CONSENSUS) {
      log.error(`Replica ${this.id} got an unexpected message type ${Message_Type[msg.type] ?? msg.type} from ${sender.name}`)
      return
    }
    let bm
    try {
      bm = decodeBatchMessage(msg.payload)
    } catch (err) {
      log.warn(`Replica ${this.id} dropped a message from ${sender.name}: ${errorMessage(err)}`)
      return
    }
    if (bm.type === 'request') {
      if (!this.dedup.isNew(bm.request)) {
        log.warn(`Replica ${this.id} ignoring request from replica ${bm.request.replicaId} as it is too old`)
        return
      }
      // A retransmission of one we hold must not be batched twice.
      if (!this.reqStore.storeOutstanding(bm.request) && this.ext.dropDuplicateRequests) return
      if (this.isActivePrimary()) return this.leaderProcReq(bm.request)
      this.startTimerIfOutstandingRequests()
      return
    }
    if (bm.type === 'other') {
      log.warn(`Replica ${this.id} dropped a batch message (${bm.what}) from ${sender.name}: not used in batch mode`)
      return
    }
    let senderId: number
    let m: PbftMessage
    try {
      senderId = replicaIdOf(sender.name)
      if (senderId >= this.core.state.N) throw new Error(`${sender.name} is not one of the ${this.core.state.N} replicas`)
      m = decodePbftMessage(bm.bytes)
    } catch (err) {
      log.warn(`Replica ${this.id} dropped a PBFT message from ${sender.name}: ${errorMessage(err)}`)
      return
    }
    return { kind: 'message', msg: m, sender: senderId }
  }

  /**
   * Our request to every replica. With retransmit (we send again whatever goes missing), each copy
   * goes only while the request is outstanding here and, if we are the primary, not yet in a batch
   * (whose pre-prepare carries it): under load the send lanes reach most requests after that.
   */
  private broadcastRequest (req: Request): void {
    const key = requestDigest(req)
    const needed = (): boolean => !this.ext.retransmit ||
      (this.reqStore.outstanding.has(key) && !(this.isActivePrimary() && this.reqStore.pending.has(key)))
    this.broadcaster.broadcast(create(MessageSchema, { type: Message_Type.CONSENSUS, payload: encodeRequestMessage(req) }), needed)
  }

  private isActivePrimary (): boolean {
    const s = this.core.state
    return s.primary(s.view) === this.id && s.activeView
  }

  private submitToLeader (req: Request): BatchEvent | undefined {
    this.reqStore.storeOutstanding(req)
    // To everyone, in case we are in the wrong view.
    this.broadcastRequest(req)
    this.startTimerIfOutstandingRequests()
    if (this.isActivePrimary()) return this.leaderProcReq(req)
  }

  private leaderProcReq (req: Request): BatchEvent | undefined {
    this.batchStore.push(req)
    this.reqStore.storePending(req)
    if (!this.batchTimer.running) this.batchTimer.reset(this.batchTimeout, { kind: 'batchTimer' })
    if (this.batchStore.length >= this.batchSize) return this.sendBatch()
  }

  private sendBatch (): BatchEvent | undefined {
    this.batchTimer.stop()
    if (this.batchStore.length === 0) {
      log.error(`Replica ${this.id} told to send an empty batch store for ordering, ignoring`)
      return
    }
    const batch = newRequestBatch(this.batchStore)
    this.batchStore = []
    log.info(`Replica ${this.id} creating batch with ${batch.batch.length} requests`)
    return { kind: 'requestBatch', batch }
  }

  /** After state transfer: our requests the new blocks hold count as executed; the rest go out again. */
  private async reconcileOwn (txids: string[]): Promise<void> {
    const done: string[] = []
    for (const txid of txids) {
      try {
        if (await this.stack.ledger.hasTransaction(txid)) done.push(txid)
      } catch (err) {
        log.warn(`Replica ${this.id} could not look up transaction ${txid}: ${errorMessage(err)}`)
      }
    }
    this.manager.queue({
      kind: 'work',
      fn: () => {
        for (const txid of done) {
          const req = this.own.executed(txid)
          // So that older ones of ours still missing are recognised as stale, as the others see them.
          if (req !== undefined) this.dedup.execute(req)
        }
        this.own.retransmit(true)
        const next = this.resubmitOutstandingReqs()
        if (next !== undefined) this.manager.inject(next)
      }
    })
  }

  private execute (seqNo: number, batch: RequestBatch): void {
    const txs: Transaction[] = []
    for (const req of batch.batch) {
      let tx: Transaction
      try {
        tx = fromBinary(TransactionSchema, req.payload)
      } catch (err) {
        log.warn(`Replica ${this.id} could not unmarshal a transaction of seqNo ${seqNo}: ${errorMessage(err)}`)
        continue
      }
      this.reqStore.remove(req)
      this.own.executed(tx.txid)
      txs.push(tx)
      this.dedup.execute(req)
    }
    try {
      this.stack.executor.execute(encodeMetadata(seqNo), txs)
    } catch (err) {
      this.manager.queue({ kind: 'executionFailed', error: err as Error })
    }
  }

  private skipTo (target: StateTarget): void {
    let info: BlockchainInfo
    try {
      info = fromBinary(BlockchainInfoSchema, target.id)
    } catch (err) {
      log.error(`Replica ${this.id} cannot transfer state to checkpoint ${target.seqNo}: its id is not a BlockchainInfo (${errorMessage(err)})`)
      this.manager.queue({ kind: 'stateUpdated', target, info: undefined })
      return
    }
    try {
      this.stack.executor.updateState(target, info, target.replicas.map(r => handle(replicaName(r))))
    } catch (err) {
      log.error(`Replica ${this.id} cannot transfer state to checkpoint ${target.seqNo}: ${errorMessage(err)}`)
      this.manager.queue({ kind: 'stateUpdated', target, info: undefined })
    }
  }

  private wrap (m: PbftMessage): Message {
    return create(MessageSchema, { type: Message_Type.CONSENSUS, payload: encodePbftEnvelope(encodePbftMessage(m)) })
  }

  /** The primary feeds outstanding requests into batches, unless an execution is under way. */
  private resubmitOutstandingReqs (): BatchEvent | undefined {
    this.startTimerIfOutstandingRequests()
    if (!this.isActivePrimary() || this.core.state.currentExec !== undefined) return
    const needed = Math.max(1, this.batchSize - this.batchStore.length)
    while (this.reqStore.hasNonPending()) {
      for (const req of this.reqStore.nextNonPending(needed)) {
        const next = this.leaderProcReq(req)
        if (next !== undefined) this.manager.inject(next)
      }
    }
  }

  private viewChanged (): BatchEvent | undefined {
    const c = this.core.state
    this.batchStore = []
    // The core cannot see into batches: a request may be ordered again in another batch, so forget them.
    c.clearOutstandingReqBatches()
    this.batchTimer.stop()
    // A new primary that is still catching up cannot know what is already done.
    if (c.skipInProgress) this.reqStore.outstanding.clear()
    this.reqStore.pending.clear()
    for (let n = Math.max(c.h, c.lastExec) + 1; n <= c.h + c.L; n++) {
      const pp = c.certAt(c.view, n)?.prePrepare
      if (pp === undefined || pp.digest === '') continue
      if (pp.batch === undefined) {
        log.warn(`Replica ${this.id} found a non-null pre-prepare with no request batch for seqNo ${n}, ignoring`)
        continue
      }
      this.reqStore.storePendings(pp.batch.batch)
    }
    return this.resubmitOutstandingReqs()
  }

  private startTimerIfOutstandingRequests (): void {
    const c = this.core.state
    // Execution, state transfer and view changes take their own time.
    if (c.skipInProgress || c.currentExec !== undefined || !c.activeView) return
    if (!this.reqStore.hasNonPending()) return
    c.timers.softStartTimer(c.requestTimeout, 'batch outstanding requests')
  }
}

