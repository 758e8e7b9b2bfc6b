import { toBase64 } from '../../crypto/bytes.ts'
import { createLogger, type Logger } from '../../util/logger.ts'
import { CertStore, type Cert } from './certs.ts'
import { logSize, type PbftConfig, type PbftExtensions } from './config.ts'
import type { CoreTimer, StateTarget } from './events.ts'
import type { Checkpoint, Commit, NewView, PQ, PrePrepare, Prepare, RequestBatch, ViewChange } from './messages.ts'
import type { PbftStore, PersistedPbftState } from './persist.ts'
import { calcPSet, calcQSet, qKey } from './pqsets.ts'
import { ReplicaTimers } from './replica-timers.ts'
import { ViewRelays } from './view-relays.ts'

const log = createLogger('consensus/pbft')

const chkptKey = (n: number, replica: number): string => `${n}:${replica}`
const vcKey = (v: number, replica: number): string => `${v}:${replica}`

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

/** What a replica's PBFT state looks like from outside (a copy, for monitoring and tests). */
export interface PbftStatus {
  id: number
  view: number
  /** False while a view change is under way. */
  activeView: boolean
  /** The primary of `view`. */
  primary: number
  /** The last sequence number assigned (by this replica as primary, or by a new view). */
  seqNo: number
  lastExec: number
  /** The low watermark. */
  h: number
  /** Out of date: catching up by state transfer. */
  skipInProgress: boolean
  /** Sequence numbers of this replica's own checkpoints in its window, ascending. */
  checkpoints: number[]
  /** Since the replica started: view-change messages it sent (resends included) and new views it entered. */
  viewChangesSent: number
  newViewsInstalled: number
}

/**
 * The PBFT state of one replica (Fabric's pbftCore fields), readable by anyone in pbft/ and
 * changed only through the named transitions below, which also persist what a restarted
 * replica needs. The protocol steps (ordering.ts, checkpoint.ts, viewchange.ts, viewsync.ts)
 * decide; this object only records, answers the predicates and runs the replica's timers. Its
 * certificates are kept in certs.ts; view sync's relays and held messages (view-relays.ts), which
 * nothing else reads, are view sync's to change.
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
  /** Own checkpoints: sequence number → base64 id. */
  readonly #chkpts = new Map<number, string>()
  #pset = new Map<number, PQ>()
  #qset = new Map<string, PQ>()

  #skipInProgress = false
  #stateTransferring = false
  #highStateTarget?: StateTarget
  /** The newest checkpoint each replica reported at or above our high watermark. */
  readonly #hChkpts = new Map<number, Checkpoint>()

  #currentExec?: number
  readonly #outstandingReqBatches = new Map<string, RequestBatch>()
  #viewChangeSeqNo = Number.POSITIVE_INFINITY
  readonly #missingReqBatches = new Set<string>()

  readonly #reqBatchStore = new Map<string, RequestBatch>()
  readonly #certs = new CertStore()
  /** Checkpoint messages in the window, one per (sequence number, replica). */
  readonly #checkpointStore = new Map<string, Checkpoint>()
  readonly #viewChangeStore = new Map<string, ViewChange>()
  readonly #newViewStore = new Map<number, NewView>()
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
    for (const [d, b] of persisted.reqBatches) this.#reqBatchStore.set(d, b)
    this.#lastExec = lastExec
    // Rounding down in moveWatermarks puts h on a checkpoint boundary at or below lastExec.
    let low = lastExec
    for (const [n, id] of persisted.checkpoints) {
      this.#chkpts.set(n, toBase64(id))
      low = Math.min(low, n)
    }
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
  get chkpts (): ReadonlyMap<number, string> { return this.#chkpts }
  get pset (): ReadonlyMap<number, PQ> { return this.#pset }
  get qset (): ReadonlyMap<string, PQ> { return this.#qset }
  get hChkpts (): ReadonlyMap<number, Checkpoint> { return this.#hChkpts }
  get outstandingReqBatches (): ReadonlyMap<string, RequestBatch> { return this.#outstandingReqBatches }
  get missingReqBatches (): ReadonlySet<string> { return this.#missingReqBatches }
  get reqBatchStore (): ReadonlyMap<string, RequestBatch> { return this.#reqBatchStore }
  get certStore (): ReadonlyMap<string, Cert> { return this.#certs.all }
  get checkpointStore (): ReadonlyMap<string, Checkpoint> { return this.#checkpointStore }
  get viewChangeStore (): ReadonlyMap<string, ViewChange> { return this.#viewChangeStore }
  get newViewStore (): ReadonlyMap<number, NewView> { return this.#newViewStore }

  status (): PbftStatus {
    return {
      id: this.id,
      view: this.view,
      activeView: this.activeView,
      primary: this.primary(this.view),
      seqNo: this.seqNo,
      lastExec: this.lastExec,
      h: this.h,
      skipInProgress: this.skipInProgress,
      checkpoints: [...this.chkpts.keys()].sort((a, b) => a - b),
      viewChangesSent: this.#viewChangesSent,
      newViewsInstalled: this.#newViewsInstalled
    }
  }

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
    if (digest !== '' && !this.#reqBatchStore.has(digest)) return false
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
  storeOutstandingReqBatch (digest: string, batch: RequestBatch): void {
    this.#reqBatchStore.set(digest, batch)
    this.#outstandingReqBatches.set(digest, batch)
    this.#store.storeRequestBatch(digest, batch)
  }

  forgetOutstandingReqBatch (digest: string): void { this.#outstandingReqBatches.delete(digest) }

  /** The batch layer cannot tell which batches a view change keeps: it orders their requests again. */
  clearOutstandingReqBatches (): void { this.#outstandingReqBatches.clear() }

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

  storeOwnCheckpoint (chk: Checkpoint, id: Uint8Array): void {
    this.#chkpts.set(chk.seqNo, chk.id)
    this.#store.storeCheckpoint(chk.seqNo, id)
  }

  /** Keeps a replica's checkpoint; returns (and keeps) the one it sent before for that sequence number, if any. */
  recordCheckpoint (chk: Checkpoint): Checkpoint | undefined {
    const key = chkptKey(chk.seqNo, chk.replicaId)
    const earlier = this.#checkpointStore.get(key)
    if (earlier === undefined) this.#checkpointStore.set(key, chk)
    return earlier
  }

  /** Moves the low watermark to `n` rounded down to a checkpoint, forgetting everything at or below it. */
  moveWatermarks (n: number): void {
    const h = Math.floor(n / this.K) * this.K
    this.forgetBatches(this.#certs.dropUpTo(h))
    for (const [key, chk] of this.#checkpointStore) if (chk.seqNo <= h) this.#checkpointStore.delete(key)
    for (const n of this.#pset.keys()) if (n <= h) this.#pset.delete(n)
    for (const [key, q] of this.#qset) if (q.seqNo <= h) this.#qset.delete(key)
    for (const n of this.#chkpts.keys()) {
      if (n < h) {
        this.#chkpts.delete(n)
        this.#store.delCheckpoint(n)
      }
    }
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
  private forgetBatches (digests: Iterable<string>): void {
    const inUse = this.#certs.digests()
    for (const d of digests) {
      if (inUse.has(d)) continue
      this.#reqBatchStore.delete(d)
      this.#store.delRequestBatch(d)
    }
  }

  /** Out of date, we cannot tell which of our batches were executed: drops all but those our certificates need. */
  forgetReqBatches (): void {
    this.forgetBatches([...this.#reqBatchStore.keys()])
    this.#outstandingReqBatches.clear()
  }

  /** The newest checkpoint a replica reported at or above our high watermark. */
  recordHighCheckpoint (chk: Checkpoint): void { this.#hChkpts.set(chk.replicaId, chk) }
  forgetHighCheckpoint (replica: number): void { this.#hChkpts.delete(replica) }
  forgetHighCheckpointsBelow (n: number): void {
    for (const [replica, high] of this.#hChkpts) if (high.seqNo < n) this.#hChkpts.delete(replica)
  }

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
    this.#outstandingReqBatches.clear()
    this.#lastExec = seqNo
    this.#lateJoin = false
    this.moveWatermarks(seqNo)
    this.#skipInProgress = false
  }

  // --- view change ---

  /** Leaves the current view for `view`: inactive until its new-view is processed, our P and Q sets brought up to date. */
  startViewChange (view: number): void {
    if (this.#activeView && this.ext.viewSync) this.#leftView = this.#view
    // Only the current view's new-view and later ones are ever read.
    for (const v of this.#newViewStore.keys()) if (v < view) this.#newViewStore.delete(v)
    this.#view = view
    this.#activeView = false
    this.#lateJoin = false
    this.#pset = calcPSet(this)
    this.#qset = calcQSet(this)
    this.#certs.dropViewsBelow(view, this.#leftView)
    for (const [key, vc] of this.#viewChangeStore) if (vc.view < view) this.#viewChangeStore.delete(key)
  }

  countViewChangeSent (): void { this.#viewChangesSent++ }

  /** False when that replica's view-change for that view is already here. */
  recordViewChange (vc: ViewChange): boolean {
    const key = vcKey(vc.view, vc.replicaId)
    if (this.#viewChangeStore.has(key)) return false
    this.#viewChangeStore.set(key, vc)
    return true
  }

  storeNewView (nv: NewView): void { this.#newViewStore.set(nv.view, nv) }

  /** True while a view change is under way that we started from view `v`: we follow `v` without voting in it (viewsync.ts). */
  observes (v: number): boolean { return !this.#activeView && this.#leftView === v }

  /** We entered (or are entering) this view after it began; see lateJoin. */
  joinedLate (): void { this.#lateJoin = true }

  /** True when the batch was not missing already. */
  markReqBatchMissing (digest: string): boolean {
    if (this.#missingReqBatches.has(digest)) return false
    this.#missingReqBatches.add(digest)
    return true
  }

  /** A batch a new view assigned, fetched from another replica. */
  storeMissingReqBatch (digest: string, batch: RequestBatch): void {
    this.#reqBatchStore.set(digest, batch)
    this.#missingReqBatches.delete(digest)
    this.#store.storeRequestBatch(digest, batch)
  }

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
      const batch = this.#reqBatchStore.get(d)
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
    if (this.#outstandingReqBatches.size > 0) {
      this.timers.softStartTimer(this.requestTimeout, `outstanding request batches (${this.#outstandingReqBatches.size})`)
    } else if (this.nullRequestTimeout > 0) {
      // A backup waits a request timeout longer than the primary takes to send its null request.
      const timeout = this.nullRequestTimeout + (this.primary(this.view) !== this.id ? this.requestTimeout : 0)
      this.timers.startNullRequestTimer(timeout)
    }
  }
}
