import { toBase64 } from '../../crypto/bytes.ts'
import { createLogger } from '../../util/logger.ts'
import type { Random } from '../../util/scheduler.ts'
import { executionFailed, moveWatermarks, recvCheckpoint, retryStateTransfer, stateUpdated } from './checkpoint.ts'
import { logSize, type PbftConfig, type PbftExtensions } from './config.ts'
import type { CoreEvent, CoreTimer, StateTarget } from './events.ts'
import type { Checkpoint, Commit, NewView, PbftMessage, PQ, PrePrepare, Prepare, RequestBatch, ViewChange } from './messages.ts'
import { execDoneSync, nullRequestHandler, recvCommit, recvFetchRequestBatch, recvPrePrepare, recvPrepare, recvRequestBatch, recvReturnRequestBatch } from './ordering.ts'
import type { PbftStore, PersistedPbftState } from './persist.ts'
import { processNewView, recvNewView, recvViewChange, sendNewView, sendViewChange } from './viewchange.ts'
import { recvNewViewRelay } from './viewsync.ts'

/** What the core asks of the layer around it (Fabric's innerStack). Every call is synchronous. */
export interface InnerStack {
  broadcast (msg: PbftMessage): void
  unicast (msg: PbftMessage, replica: number): void
  /** Starts executing a committed batch; completion comes back as an execDone event. */
  execute (seqNo: number, batch: RequestBatch): void
  /** The current checkpoint id: the marshaled BlockchainInfo. */
  getState (): Uint8Array
  /** Starts state transfer; completion comes back as a stateUpdated event. */
  skipTo (target: StateTarget): void
  sign (data: Uint8Array): Uint8Array
  /** Throws when the signature is not the replica's. */
  verify (replica: number, signature: Uint8Array, data: Uint8Array): void
  invalidateState (): void
  validateState (): void
}

export interface CoreInit {
  id: number
  config: PbftConfig
  /** The sequence number of the newest block (its consensusMetadata). */
  lastExec: number
  persisted: PersistedPbftState
}

export interface CoreComponents {
  consumer: InnerStack
  store: PbftStore
  createTimer: () => CoreTimer
  /** Queues an event behind the one being handled (for events arising deep inside a handler). */
  post: (e: CoreEvent) => void
  random: Random
  /** The replica found the network (or itself) beyond what PBFT tolerates; Fabric panics here. */
  onFatal: (err: Error) => void
}

/** One quorum certificate slot: a (view, sequence number) and what was said about it. */
export interface Cert {
  view: number
  seqNo: number
  digest: string
  prePrepare?: PrePrepare
  sentPrepare: boolean
  prepares: Prepare[]
  sentCommit: boolean
  commits: Commit[]
}

export const certKey = (v: number, n: number): string => `${v}:${n}`
export const qKey = (n: number, d: string): string => `${n}:${d}`

/**
 * The PBFT state machine of one replica (Castro–Liskov, as Fabric 0.6.1's pbft-core). It is
 * driven by events, one at a time, and never blocks: execution, state transfer and sending go
 * through the InnerStack and come back as events. Its rules live in ordering.ts (pre-prepare,
 * prepare, commit, execution), checkpoint.ts (checkpoints, watermarks, state transfer) and
 * viewchange.ts (view change, new view); this file holds the state and the shared predicates.
 */
export class PbftCore {
  readonly id: number
  readonly N: number
  readonly f: number
  readonly replicaCount: number
  K: number
  L: number
  byzantine: boolean
  /** Weft's behaviours beyond Fabric's rules that are switched on (config.ts). */
  readonly ext: PbftExtensions
  viewChangePeriod: number
  requestTimeout: number
  vcResendTimeout: number
  newViewTimeout: number
  nullRequestTimeout: number

  activeView = true
  h = 0
  lastExec = 0
  seqNo = 0
  view = 0
  /** Own checkpoints: sequence number → base64 id. */
  readonly chkpts = new Map<number, string>()
  pset = new Map<number, PQ>()
  qset = new Map<string, PQ>()

  skipInProgress = false
  stateTransferring = false
  highStateTarget?: StateTarget
  /** The newest checkpoint each replica reported at or above our high watermark. */
  readonly hChkpts = new Map<number, Checkpoint>()

  currentExec?: number
  readonly newViewTimer: CoreTimer
  readonly vcResendTimer: CoreTimer
  readonly nullRequestTimer: CoreTimer
  newViewTimerReason = ''
  lastNewViewTimeout: number
  outstandingReqBatches = new Map<string, RequestBatch>()
  viewChangeSeqNo = Number.POSITIVE_INFINITY
  readonly missingReqBatches = new Set<string>()

  reqBatchStore = new Map<string, RequestBatch>()
  readonly certStore = new Map<string, Cert>()
  /** Checkpoint messages in the window, one per (sequence number, replica). */
  readonly checkpointStore = new Map<string, Checkpoint>()
  readonly viewChangeStore = new Map<string, ViewChange>()
  readonly newViewStore = new Map<number, NewView>()
  /**
   * Weft: we entered this view after it began (a relayed new-view, or one our own view-change did
   * not help form), so we may lack its first pre-prepares. Until we execute again or transfer
   * state, our own timer starts no view change: it would only exclude us until the next one,
   * while the others can still take us along (f+1 rule) if the primary really fails.
   */
  lateJoin = false
  /** View sync: to whom our new-view went in this view; which new-view each replica relayed to us. */
  readonly relayedTo = new Set<string>()
  readonly nvRelays = new Map<number, string>()
  /** Messages for a view we have not entered yet, by sender (viewsync.ts). */
  readonly heldForView = new Map<number, Array<Extract<CoreEvent, { kind: 'prePrepare' | 'prepare' | 'commit' }>>>()

  readonly consumer: InnerStack
  readonly store: PbftStore
  readonly random: Random
  readonly post: (e: CoreEvent) => void
  readonly onFatal: (err: Error) => void
  readonly log = createLogger('consensus/pbft')

  constructor (init: CoreInit, components: CoreComponents) {
    const c = init.config
    this.id = init.id
    this.N = c.N
    this.f = c.f
    this.replicaCount = c.N
    this.K = c.K
    this.L = logSize(c)
    this.byzantine = c.byzantine
    this.ext = c.extensions
    this.viewChangePeriod = c.viewChangePeriod
    this.requestTimeout = c.timeouts.request
    this.vcResendTimeout = c.timeouts.resendViewChange
    this.newViewTimeout = c.timeouts.viewChange
    this.nullRequestTimeout = c.timeouts.nullRequest
    this.lastNewViewTimeout = this.newViewTimeout
    this.consumer = components.consumer
    this.store = components.store
    this.random = components.random
    this.post = components.post
    this.onFatal = components.onFatal
    this.newViewTimer = components.createTimer()
    this.vcResendTimer = components.createTimer()
    this.nullRequestTimer = components.createTimer()
    this.restore(init.lastExec, init.persisted)
    this.updateViewChangeSeqNo()
  }

  private restore (lastExec: number, persisted: PersistedPbftState): void {
    const note = (e: PQ): void => {
      this.view = Math.max(this.view, e.view)
      this.seqNo = Math.max(this.seqNo, e.seqNo)
    }
    for (const p of persisted.pset) { this.pset.set(p.seqNo, p); note(p) }
    for (const q of persisted.qset) { this.qset.set(qKey(q.seqNo, q.digest), q); note(q) }
    for (const [d, b] of persisted.reqBatches) this.reqBatchStore.set(d, b)
    this.lastExec = lastExec
    // Rounding down in moveWatermarks puts h on a checkpoint boundary at or below lastExec.
    let low = lastExec
    for (const [n, id] of persisted.checkpoints) {
      this.chkpts.set(n, toBase64(id))
      low = Math.min(low, n)
    }
    moveWatermarks(this, low)
    this.info(`restored state: view ${this.view}, seqNo ${this.seqNo}, lastExec ${this.lastExec}, pset ${this.pset.size}, qset ${this.qset.size}, request batches ${this.reqBatchStore.size}, checkpoints ${this.chkpts.size}, h ${this.h}`)
  }

  // --- logging with the replica id ---
  debug (msg: string): void { this.log.debug(`Replica ${this.id} ${msg}`) }
  info (msg: string): void { this.log.info(`Replica ${this.id} ${msg}`) }
  warn (msg: string): void { this.log.warn(`Replica ${this.id} ${msg}`) }
  error (msg: string): void { this.log.error(`Replica ${this.id} ${msg}`) }

  /** Handles one event; returns the next event to handle before anything else, if any. */
  processEvent (e: CoreEvent): CoreEvent | undefined {
    switch (e.kind) {
      case 'viewChangeTimer':
        // Only the request timer of an active view: during a view change this timer is what moves on to the next view.
        if (this.ext.lateJoin && this.lateJoin && this.activeView) {
          // The gap is ours, not the primary's fault: the next checkpoint's state transfer fills it.
          this.info(`view change timer expired (${this.newViewTimerReason}), but we joined view ${this.view} late: waiting to catch up instead`)
          this.softStartTimer(this.requestTimeout, 'catching up after joining the view late')
          return
        }
        this.info(`view change timer expired, sending view change: ${this.newViewTimerReason}`)
        return sendViewChange(this)
      case 'message': return this.recvMsg(e.msg, e.sender)
      case 'requestBatch': recvRequestBatch(this, e.batch); return
      case 'prePrepare': return recvPrePrepare(this, e.msg)
      case 'prepare': return recvPrepare(this, e.msg)
      case 'commit': return recvCommit(this, e.msg)
      case 'checkpoint': return recvCheckpoint(this, e.msg)
      case 'viewChange': return recvViewChange(this, e.msg)
      case 'newView': return recvNewView(this, e.msg)
      case 'newViewRelay': return recvNewViewRelay(this, e.msg, e.sender)
      case 'fetchRequestBatch': recvFetchRequestBatch(this, e.msg); return
      case 'returnRequestBatch': return recvReturnRequestBatch(this, e.batch)
      case 'stateUpdated': return stateUpdated(this, e.target, e.info)
      case 'execDone':
        execDoneSync(this)
        if (this.skipInProgress) retryStateTransfer(this)
        // A new view may have been waiting for this execution.
        return processNewView(this)
      case 'executionFailed': return executionFailed(this, e.error)
      case 'nullRequestTimer': return nullRequestHandler(this)
      case 'work': e.fn(); return
      case 'viewChangeQuorum':
        this.debug('received view change quorum, processing new view')
        return this.primary(this.view) === this.id ? sendNewView(this) : processNewView(this)
      case 'viewChanged': return
      case 'viewChangeResendTimer':
        if (this.activeView) {
          this.warn('had its view change resend timer expire but it is in an active view, ignoring')
          return
        }
        this.debug('view change resend timer expired before view change quorum was reached, resending')
        this.view-- // sendViewChange moves it forward again
        return sendViewChange(this)
    }
  }

  /** Checks that a message claims the replica whose connection it came on (Fabric's recvMsg). */
  private recvMsg (m: PbftMessage, sender: number): CoreEvent | undefined {
    if (m.type === 'requestBatch') return { kind: 'requestBatch', batch: m.batch }
    // A returned batch is the original, whoever forwards it: its digest is what gets checked.
    if (m.type === 'returnRequestBatch') return { kind: 'returnRequestBatch', batch: m.batch }
    // A new-view forwarded by a replica other than its primary: view sync (viewsync.ts).
    if (m.type === 'newView' && m.msg.replicaId !== sender && this.ext.viewSync) return { kind: 'newViewRelay', msg: m.msg, sender }
    if (m.msg.replicaId !== sender) {
      this.warn(`Sender ID included in ${m.type} message (${m.msg.replicaId}) doesn't match ID corresponding to the receiving stream (${sender})`)
      return
    }
    return { kind: m.type, msg: m.msg } as CoreEvent
  }

  // --- predicates ---

  primary (view: number): number { return view % this.replicaCount }

  /** Sequence number strictly above the low watermark and at most L above it. */
  inW (n: number): boolean { return n - this.h > 0 && n - this.h <= this.L }

  inWV (v: number, n: number): boolean { return this.view === v && this.inW(n) }

  getCert (v: number, n: number): Cert {
    const key = certKey(v, n)
    let cert = this.certStore.get(key)
    if (cert === undefined) {
      cert = { view: v, seqNo: n, digest: '', sentPrepare: false, prepares: [], sentCommit: false, commits: [] }
      this.certStore.set(key, cert)
    }
    return cert
  }

  /** Replicas needed so that any two quorums share a correct one: ceil((N+f+1)/2). */
  intersectionQuorum (): number { return Math.floor((this.N + this.f + 2) / 2) }

  allCorrectReplicasQuorum (): number { return this.N - this.f }

  prePrepared (digest: string, v: number, n: number): boolean {
    if (digest !== '' && !this.reqBatchStore.has(digest)) return false
    if (this.qset.get(qKey(n, digest))?.view === v) return true
    const pp = this.certStore.get(certKey(v, n))?.prePrepare
    return pp !== undefined && pp.view === v && pp.seqNo === n && pp.digest === digest
  }

  prepared (digest: string, v: number, n: number): boolean {
    if (!this.prePrepared(digest, v, n)) return false
    const p = this.pset.get(n)
    if (p !== undefined && p.view === v && p.digest === digest) return true
    const cert = this.certStore.get(certKey(v, n))
    if (cert === undefined) return false
    let count = 0
    for (const p of cert.prepares) if (p.view === v && p.seqNo === n && p.digest === digest) count++
    return count >= this.intersectionQuorum() - 1
  }

  committed (digest: string, v: number, n: number): boolean {
    if (!this.prepared(digest, v, n)) return false
    const cert = this.certStore.get(certKey(v, n))
    if (cert === undefined) return false
    let count = 0
    for (const c of cert.commits) if (c.view === v && c.seqNo === n && c.digest === digest) count++
    return count >= this.intersectionQuorum()
  }

  /** True when every sequence number from after `from` up to `to` has a commit certificate here. */
  canExecuteTo (from: number, to: number): boolean {
    for (let n = from + 1; n <= to; n++) {
      let found = false
      for (const cert of this.certStore.values()) {
        if (cert.seqNo === n && cert.prePrepare !== undefined && this.committed(cert.digest, cert.view, n)) { found = true; break }
      }
      if (!found) return false
    }
    return true
  }

  // --- sending ---

  /** Broadcasts to the other replicas; a byzantine replica leaves one random replica out a third of the time. */
  innerBroadcast (msg: PbftMessage): void {
    if (this.byzantine && Math.floor(this.random() * 3) === 1) {
      const skip = Math.floor(this.random() * this.N)
      this.debug(`byzantine: not broadcasting ${msg.type} to replica ${skip}`)
      for (let i = 0; i < this.N; i++) if (i !== skip && i !== this.id) this.consumer.unicast(msg, i)
      return
    }
    this.consumer.broadcast(msg)
  }

  // --- timers ---

  updateViewChangeSeqNo (): void {
    if (this.viewChangePeriod <= 0) return
    // Always on a checkpoint boundary.
    this.viewChangeSeqNo = this.seqNo + this.viewChangePeriod * this.K - this.seqNo % this.K
    this.debug(`updating view change sequence number to ${this.viewChangeSeqNo}`)
  }

  startTimerIfOutstandingRequests (): void {
    // Execution and state transfer take arbitrarily long: not a reason to suspect the primary.
    if (this.skipInProgress || this.currentExec !== undefined) return
    if (this.outstandingReqBatches.size > 0) {
      this.softStartTimer(this.requestTimeout, `outstanding request batches (${this.outstandingReqBatches.size})`)
    } else if (this.nullRequestTimeout > 0) {
      // A backup waits a request timeout longer than the primary takes to send its null request.
      const timeout = this.nullRequestTimeout + (this.primary(this.view) !== this.id ? this.requestTimeout : 0)
      this.nullRequestTimer.reset(timeout, { kind: 'nullRequestTimer' })
    }
  }

  softStartTimer (timeout: number, reason: string): void {
    this.newViewTimerReason = reason
    this.newViewTimer.softReset(timeout, { kind: 'viewChangeTimer' })
  }

  startTimer (timeout: number, reason: string): void {
    this.newViewTimerReason = reason
    this.newViewTimer.reset(timeout, { kind: 'viewChangeTimer' })
  }

  stopTimer (): void { this.newViewTimer.stop() }

  stopAllTimers (): void {
    this.newViewTimer.stop()
    this.vcResendTimer.stop()
    this.nullRequestTimer.stop()
  }
}
