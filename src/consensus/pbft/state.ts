import { createLogger, type Logger } from '../../util/logger.ts'
import { BatchStore } from './batch-store.ts'
import { CertStore, type Cert } from './certs.ts'
import { CheckpointStore } from './checkpoint-store.ts'
import { logSize, type PbftConfig, type PbftExtensions } from './config.ts'
import type { CoreTimer, StateTarget } from './events.ts'
import type { Checkpoint, Commit, NewView, PQ, PrePrepare, Prepare, RequestBatch, ViewChange } from './messages.ts'
import type { PbftStore, PersistedPbftState } from './persist.ts'
import { calcPSet, calcQSet, qKey } from './pqsets.ts'
import { ReplicaTimers } from './replica-timers.ts'
import { ViewChangeStore } from './view-change-store.ts'
import { ViewRelays } from './view-relays.ts'

const log = createLogger('consensus/pbft')

export interface ReplicaInit {
  id: number
  config: PbftConfig
  /** The sequence number of the newest block (its consensusMetadata). */
  lastExec: number
  persisted: PersistedPbftState
}

export interface ReplicaParts {
  store: PbftStore
  createTimer: () => CoreTimer
}

/**
 * The PBFT state of one replica (Fabric's pbftCore fields), readable by anyone in pbft/ and
 * changed only through the named transitions below, which also persist what a restarted
 * replica needs. The protocol steps (ordering.ts, checkpoint.ts, viewchange.ts, viewsync.ts)
 * decide; this object only records, answers the predicates and runs the replica's timers. It
 * keeps its certificates, request batches, checkpoints and view-change messages in stores of
 * their own (certs.ts, batch-store.ts, checkpoint-store.ts, view-change-store.ts); view sync's
 * relays and held messages (view-relays.ts), which nothing else reads, are view sync's to change.
 */
export class ReplicaState {
  readonly id: number
  readonly N: number
  readonly f: number
  readonly K: number
  readonly L: number
  readonly byzantine: boolean
  /** Weft's behaviours beyond Fabric's rules that are switched on (config.ts). */
  readonly ext: PbftExtensions
  readonly viewChangePeriod: number
  readonly requestTimeout: number
  readonly nullRequestTimeout: number
  /** The replica's log: every line names the replica. */
  readonly log: Logger
  readonly timers: ReplicaTimers

  #activeView = true
  #h = 0
  #lastExec = 0
  #seqNo = 0
  #view = 0
  #viewChangesSent = 0
  #newViewsInstalled = 0
  #pset = new Map<number, PQ>()
  #qset = new Map<string, PQ>()

  #skipInProgress = false
  #stateTransferring = false
  #highStateTarget?: StateTarget

  #currentExec?: number
  #viewChangeSeqNo = Number.POSITIVE_INFINITY

  readonly #certs = new CertStore()
  readonly #batches: BatchStore
  readonly #checkpoints: CheckpointStore
  readonly #viewChanges = new ViewChangeStore()
  /**
   * Weft: we entered this view after it began (a relayed new-view, or one our own view-change did
   * not help form), so we may lack its first pre-prepares. Until we execute again or transfer
   * state, our own timer starts no view change: it would only exclude us until the next one,
   * while the others can still take us along (f+1 rule) if the primary really fails.
   */
  #lateJoin = false
  /** Weft (viewSync): the view we were active in when we started the view change under way (observes()). */
  #leftView?: number
  /** View sync's relays and the messages held for views not entered yet (viewsync.ts). */
  readonly relays: ViewRelays

  readonly #store: PbftStore

  constructor (init: ReplicaInit, parts: ReplicaParts) {
    const c = init.config
    this.id = init.id
    this.N = c.N
    this.f = c.f
    this.K = c.K
    this.L = logSize(c)
    this.byzantine = c.byzantine
    this.ext = c.extensions
    this.viewChangePeriod = c.viewChangePeriod
    this.requestTimeout = c.timeouts.request
    this.nullRequestTimeout = c.timeouts.nullRequest
    const id = init.id
    this.log = {
      debug: msg => log.debug(`Replica ${id} ${msg}`),
      info: msg => log.info(`Replica ${id} ${msg}`),
      warn: msg => log.warn(`Replica ${id} ${msg}`),
      error: msg => log.error(`Replica ${id} ${msg}`)
    }
    this.#store = parts.store
    this.#batches = new BatchStore(parts.store, init.persisted.reqBatches)
    this.#checkpoints = new CheckpointStore(parts.store, init.persisted.checkpoints)
    this.timers = new ReplicaTimers(c.timeouts, parts.createTimer)
    this.relays = new ViewRelays(3 * this.L)
    this.restore(init.lastExec, init.persisted)
    this.updateViewChangeSeqNo()
  }

  private restore (lastExec: number, persisted: PersistedPbftState): void {
    const note = (e: PQ): void => {
      this.#view = Math.max(this.#view, e.view)
      this.#seqNo = Math.max(this.#seqNo, e.seqNo)
    }
    for (const p of persisted.pset) { this.#pset.set(p.seqNo, p); note(p) }
    for (const q of persisted.qset) { this.#qset.set(qKey(q.seqNo, q.digest), q); note(q) }
    this.#lastExec = lastExec
    // Rounding down in moveWatermarks puts h on a checkpoint boundary at or below lastExec.
    let low = lastExec
    for (const n of persisted.checkpoints.keys()) low = Math.min(low, n)
    this.moveWatermarks(low)
    this.log.info(`restored state: view ${this.view}, seqNo ${this.seqNo}, lastExec ${this.lastExec}, pset ${this.pset.size}, qset ${this.qset.size}, request batches ${this.reqBatchStore.size}, checkpoints ${this.chkpts.size}, h ${this.h}`)
  }

  // --- what it holds ---

  get view (): number { return this.#view }
  get activeView (): boolean { return this.#activeView }
  get seqNo (): number { return this.#seqNo }
  get lastExec (): number { return this.#lastExec }
  get h (): number { return this.#h }
  get currentExec (): number | undefined { return this.#currentExec }
  get skipInProgress (): boolean { return this.#skipInProgress }
  get stateTransferring (): boolean { return this.#stateTransferring }
  get highStateTarget (): StateTarget | undefined { return this.#highStateTarget }
  get lateJoin (): boolean { return this.#lateJoin }
  get viewChangeSeqNo (): number { return this.#viewChangeSeqNo }
  /** Since the replica started: view-change messages it sent (resends included) and new views it entered. */
  get viewChangesSent (): number { return this.#viewChangesSent }
  get newViewsInstalled (): number { return this.#newViewsInstalled }
  get chkpts (): ReadonlyMap<number, string> { return this.#checkpoints.own }
  get pset (): ReadonlyMap<number, PQ> { return this.#pset }
  get qset (): ReadonlyMap<string, PQ> { return this.#qset }
  /** The newest checkpoint each replica reported at or above our high watermark. */
  get hChkpts (): ReadonlyMap<number, Checkpoint> { return this.#checkpoints.high }
  get outstandingReqBatches (): ReadonlyMap<string, RequestBatch> { return this.#batches.outstanding }
  get missingReqBatches (): ReadonlySet<string> { return this.#batches.missing }
  get reqBatchStore (): ReadonlyMap<string, RequestBatch> { return this.#batches.all }
  get certStore (): ReadonlyMap<string, Cert> { return this.#certs.all }
  /** Checkpoint messages in the window, one per (sequence number, replica). */
  get checkpointStore (): ReadonlyMap<string, Checkpoint> { return this.#checkpoints.received }
  get viewChangeStore (): ReadonlyMap<string, ViewChange> { return this.#viewChanges.viewChanges }
  get newViewStore (): ReadonlyMap<number, NewView> { return this.#viewChanges.newViews }

  // --- predicates ---

  primary (view: number): number { return view % this.N }

  /** Sequence number strictly above the low watermark and at most L above it. */
  inW (n: number): boolean { return n - this.h > 0 && n - this.h <= this.L }

  inWV (v: number, n: number): boolean { return this.view === v && this.inW(n) }

  /** Replicas needed so that any two quorums share a correct one: ceil((N+f+1)/2). */
  intersectionQuorum (): number { return Math.floor((this.N + this.f + 2) / 2) }

  allCorrectReplicasQuorum (): number { return this.N - this.f }

  /** The certificate for (v, n), if anything was said about it. */
  certAt (v: number, n: number): Cert | undefined { return this.#certs.at(v, n) }

  prePrepared (digest: string, v: number, n: number): boolean {
    if (digest !== '' && !this.#batches.all.has(digest)) return false
    if (this.#qset.get(qKey(n, digest))?.view === v) return true
    const pp = this.certAt(v, n)?.prePrepare
    return pp !== undefined && pp.view === v && pp.seqNo === n && pp.digest === digest
  }

  prepared (digest: string, v: number, n: number): boolean {
    if (!this.prePrepared(digest, v, n)) return false
    const p = this.#pset.get(n)
    if (p !== undefined && p.view === v && p.digest === digest) return true
    const cert = this.certAt(v, n)
    if (cert === undefined) return false
    let count = 0
    for (const p of cert.prepares) if (p.view === v && p.seqNo === n && p.digest === digest) count++
    return count >= this.intersectionQuorum() - 1
  }

  committed (digest: string, v: number, n: number): boolean {
    if (!this.prepared(digest, v, n)) return false
    const cert = this.certAt(v, n)
    if (cert === undefined) return false
    let count = 0
    for (const c of cert.commits) if (c.view === v && c.seqNo === n && c.digest === digest) count++
    return count >= this.intersectionQuorum()
  }

  /** True when every sequence number from after `from` up to `to` has a commit certificate here. */
  canExecuteTo (from: number, to: number): boolean {
    for (let n = from + 1; n <= to; n++) {
      let found = false
      for (const cert of this.#certs.all.values()) {
        if (cert.seqNo === n && cert.prePrepare !== undefined && this.committed(cert.digest, cert.view, n)) { found = true; break }
      }
      if (!found) return false
    }
    return true
  }

  // --- ordering ---

  /** The certificate slot for (v, n), opened empty if new (Fabric's getCert). */
  getCert (v: number, n: number): Cert { return this.#certs.get(v, n) }

  /** A request batch to order: kept (and persisted) until executed or forgotten. */
  storeOutstandingReqBatch (digest: string, batch: RequestBatch): void { this.#batches.storeOutstanding(digest, batch) }

  forgetOutstandingReqBatch (digest: string): void { this.#batches.forgetOutstanding(digest) }

  /** The batch layer cannot tell which batches a view change keeps: it orders their requests again. */
  clearOutstandingReqBatches (): void { this.#batches.clearOutstanding() }

  /** The primary takes the next sequence number. */
  assignSeqNo (n: number): void { this.#seqNo = n }

  recordPrePrepare (pp: PrePrepare): void { this.#certs.recordPrePrepare(pp) }

  markPrepareSent (v: number, n: number): void { this.#certs.markPrepareSent(v, n) }
  markCommitSent (v: number, n: number): void { this.#certs.markCommitSent(v, n) }

  /** Returns the certificate, or undefined (and changes nothing) when that replica's prepare is already there. */
  recordPrepare (prep: Prepare): Cert | undefined { return this.#certs.recordVote(prep, 'prepares') }

  /** Returns the certificate, or undefined (and changes nothing) when that replica's commit is already there. */
  recordCommit (commit: Commit): Cert | undefined { return this.#certs.recordVote(commit, 'commits') }

  /** What a restarted replica needs to keep its word in the next view change. */
  persistPSet (): void { this.#store.storePSet(() => calcPSet(this).values()) }
  persistQSet (): void { this.#store.storeQSet(() => calcQSet(this).values()) }

  startExecution (seqNo: number): void { this.#currentExec = seqNo }

  markExecuted (): void {
    this.#lastExec = this.#currentExec!
    this.#lateJoin = false
    this.#currentExec = undefined
  }

  /** Weft: an execution failed outside consensus; state transfer takes over. */
  abortExecution (): void { this.#currentExec = undefined }

  // --- checkpoints and state transfer ---

  storeOwnCheckpoint (chk: Checkpoint, id: Uint8Array): void { this.#checkpoints.storeOwn(chk, id) }

  /** Keeps a replica's checkpoint; returns (and keeps) the one it sent before for that sequence number, if any. */
  recordCheckpoint (chk: Checkpoint): Checkpoint | undefined { return this.#checkpoints.record(chk) }

  /** Moves the low watermark to `n` rounded down to a checkpoint, forgetting everything at or below it. */
  moveWatermarks (n: number): void {
    const h = Math.floor(n / this.K) * this.K
    this.forgetBatches(this.#certs.dropUpTo(h))
    for (const n of this.#pset.keys()) if (n <= h) this.#pset.delete(n)
    for (const [key, q] of this.#qset) if (q.seqNo <= h) this.#qset.delete(key)
    this.#checkpoints.moveWatermark(h)
    this.#h = h
    this.log.debug(`updated low watermark to ${h}`)
  }

  /**
   * Drops request batches, keeping any that a remaining certificate still uses: the same batch can
   * sit at two sequence numbers (re-proposed after a view change or a state transfer), and a
   * certificate whose batch is gone no longer counts as pre-prepared or prepared, so it would drop
   * out of our P and Q sets and a view change could lose a committed request. (Fabric deletes by
   * digest regardless.)
   */
  private forgetBatches (digests: Iterable<string>): void { this.#batches.forget(digests, this.#certs.digests()) }

  /** Out of date, we cannot tell which of our batches were executed: drops all but those our certificates need. */
  forgetReqBatches (): void {
    this.forgetBatches([...this.#batches.all.keys()])
    this.#batches.clearOutstanding()
  }

  /** The newest checkpoint a replica reported at or above our high watermark. */
  recordHighCheckpoint (chk: Checkpoint): void { this.#checkpoints.recordHigh(chk) }
  forgetHighCheckpoint (replica: number): void { this.#checkpoints.forgetHigh(replica) }
  forgetHighCheckpointsBelow (n: number): void { this.#checkpoints.forgetHighBelow(n) }

  /** Out of date: state transfer is needed before executing again (Fabric's skipInProgress). */
  markOutOfDate (): void { this.#skipInProgress = true }

  updateHighStateTarget (target: StateTarget): void {
    if (this.#highStateTarget !== undefined && this.#highStateTarget.seqNo >= target.seqNo) {
      this.log.debug(`not updating state target to seqNo ${target.seqNo}, has target for seqNo ${this.#highStateTarget.seqNo}`)
      return
    }
    this.#highStateTarget = target
  }

  beginStateTransfer (): void { this.#stateTransferring = true }
  endStateTransfer (): void { this.#stateTransferring = false }

  /**
   * State transfer brought the ledger to `seqNo`. Batches we never saw commit may have executed in
   * the blocks we received: as primary we must not propose them again (their requests are still
   * outstanding at their origin).
   */
  caughtUp (seqNo: number): void {
    this.#batches.clearOutstanding()
    this.#lastExec = seqNo
    this.#lateJoin = false
    this.moveWatermarks(seqNo)
    this.#skipInProgress = false
  }

  // --- view change ---

  /** Leaves the current view for `view`: inactive until its new-view is processed, our P and Q sets brought up to date. */
  startViewChange (view: number): void {
    if (this.#activeView && this.ext.viewSync) this.#leftView = this.#view
    this.#viewChanges.dropBelow(view)
    this.#view = view
    this.#activeView = false
    this.#lateJoin = false
    this.#pset = calcPSet(this)
    this.#qset = calcQSet(this)
    this.#certs.dropViewsBelow(view, this.#leftView)
  }

  countViewChangeSent (): void { this.#viewChangesSent++ }

  /** False when that replica's view-change for that view is already here. */
  recordViewChange (vc: ViewChange): boolean { return this.#viewChanges.record(vc) }

  storeNewView (nv: NewView): void { this.#viewChanges.storeNewView(nv) }

  /** True while a view change is under way that we started from view `v`: we follow `v` without voting in it (viewsync.ts). */
  observes (v: number): boolean { return !this.#activeView && this.#leftView === v }

  /** We entered (or are entering) this view after it began; see lateJoin. */
  joinedLate (): void { this.#lateJoin = true }

  /** True when the batch was not missing already. */
  markReqBatchMissing (digest: string): boolean { return this.#batches.markMissing(digest) }

  /** A batch a new view assigned, fetched from another replica. */
  storeMissingReqBatch (digest: string, batch: RequestBatch): void { this.#batches.storeMissing(digest, batch) }

  /**
   * Activates the current view with the new-view's X set installed as its pre-prepares (Fabric's
   * processNewView2); returns the assignments above h, in sequence order.
   */
  enterView (nv: NewView): Array<[number, string]> {
    this.timers.stopTimer()
    this.timers.stopNullRequestTimer()
    this.#activeView = true
    this.#leftView = undefined
    this.#newViewsInstalled++
    this.relays.clearRelays()

    const assigned = [...nv.xset].filter(([n]) => n > this.h).sort((a, b) => a[0] - b[0])
    this.#seqNo = this.h
    for (const [n, d] of assigned) {
      const batch = this.#batches.all.get(d)
      if (batch === undefined && d !== '') this.log.error(`is missing request batch for seqNo=${n} with digest '${d}' for assigned prepare after fetching, this indicates a serious bug`)
      this.recordPrePrepare({ view: this.view, seqNo: n, digest: d, batch, replicaId: this.id })
      this.#seqNo = Math.max(this.#seqNo, n)
    }
    this.persistQSet()
    this.updateViewChangeSeqNo()
    return assigned
  }

  // --- timers ---

  updateViewChangeSeqNo (): void {
    if (this.viewChangePeriod <= 0) return
    // Always on a checkpoint boundary.
    this.#viewChangeSeqNo = this.seqNo + this.viewChangePeriod * this.K - this.seqNo % this.K
    this.log.debug(`updating view change sequence number to ${this.viewChangeSeqNo}`)
  }

  startTimerIfOutstandingRequests (): void {
    // Execution and state transfer take arbitrarily long: not a reason to suspect the primary.
    if (this.skipInProgress || this.currentExec !== undefined) return
    // Following the view we left, with a view change of our own under way: no other view to suspect.
    if (this.#leftView !== undefined && !this.#activeView) return
    if (this.#batches.outstanding.size > 0) {
      this.timers.softStartTimer(this.requestTimeout, `outstanding request batches (${this.#batches.outstanding.size})`)
    } else if (this.nullRequestTimeout > 0) {
      // A backup waits a request timeout longer than the primary takes to send its null request.
      const timeout = this.nullRequestTimeout + (this.primary(this.view) !== this.id ? this.requestTimeout : 0)
      this.timers.startNullRequestTimer(timeout)
    }
  }
}
