import { fromBase64 } from '../../crypto/bytes.ts'
import { errorMessage } from '../../util/errors.ts'
import type { CoreEvent } from './events.ts'
import type { InnerStack } from './inner-stack.ts'
import { batchDigest, viewChangeSigningBytes, type FetchRequestBatch, type NewView, type Prepare, type RequestBatch, type ViewChange } from './messages.ts'
import { assignSequenceNumbers, sameXset, selectInitialCheckpoint, type QuorumParams } from './newview.ts'
import type { ReplicaState } from './state.ts'
import type { Steps } from './steps.ts'

/** View change and new view (Castro–Liskov TOCS 2002, 4.4 and 4.5), with the request batches a new view needs. */
export class ViewChanges {
  constructor (
    private readonly s: ReplicaState,
    private readonly stack: Pick<InnerStack, 'unicast' | 'sign' | 'verify'>,
    private readonly steps: Pick<Steps, 'post' | 'innerBroadcast' | 'recvPrepare' | 'resubmitRequestBatches' | 'moveWatermarks' | 'stateTransfer' | 'relayNewView' | 'releaseHeld'>
  ) {}

  private params (): QuorumParams {
    return { f: this.s.f, quorum: this.s.intersectionQuorum(), L: this.s.L }
  }

  /** P and Q entries must be from earlier views and inside the sender's window; C entries inside it too. */
  private correctViewChange (vc: ViewChange): boolean {
    const s = this.s
    for (const p of [...vc.pset, ...vc.qset]) {
      if (!(p.view < vc.view && p.seqNo > vc.h && p.seqNo <= vc.h + s.L)) {
        s.log.debug(`invalid p entry in view-change: vc(v:${vc.view} h:${vc.h}) p(v:${p.view} n:${p.seqNo})`)
        return false
      }
    }
    for (const x of vc.cset) {
      // The paper says c.n > vc.h; the checkpoint at h itself is listed too.
      if (!(x.seqNo >= vc.h && x.seqNo <= vc.h + s.L)) {
        s.log.debug(`invalid c entry in view-change: vc(v:${vc.view} h:${vc.h}) c(n:${x.seqNo})`)
        return false
      }
    }
    return true
  }

  private verified (vc: ViewChange): boolean {
    try {
      this.stack.verify(vc.replicaId, vc.signature, viewChangeSigningBytes(vc))
      return true
    } catch (err) {
      this.s.log.warn(`found incorrect signature in view-change message from replica ${vc.replicaId}: ${errorMessage(err)}`)
      return false
    }
  }

  /** Leaves the current view for `view` (the next one unless said) and tells everyone what we prepared. */
  sendViewChange (view = this.s.view + 1): CoreEvent | undefined {
    const s = this.s
    s.timers.stopTimer()
    s.startViewChange(view)

    const vc: ViewChange = {
      view: s.view,
      h: s.h,
      cset: [...s.chkpts].map(([seqNo, id]) => ({ seqNo, id })),
      pset: [...s.pset.values()],
      qset: [...s.qset.values()],
      replicaId: s.id,
      signature: new Uint8Array(0)
    }
    for (const p of [...vc.pset, ...vc.qset]) {
      if (p.seqNo < s.h) s.log.error(`BUG! should not have anything in our P/Q sets below h (${s.h}), found seqNo ${p.seqNo}`)
    }
    vc.signature = this.stack.sign(viewChangeSigningBytes(vc))
    s.log.info(`sending view-change, v:${vc.view}, h:${vc.h}, |C|:${vc.cset.length}, |P|:${vc.pset.length}, |Q|:${vc.qset.length}`)
    this.steps.innerBroadcast({ type: 'viewChange', msg: vc })
    s.countViewChangeSent()
    s.timers.startViewChangeResendTimer()
    return this.recvViewChange(vc)
  }

  recvViewChange (vc: ViewChange): CoreEvent | undefined {
    const s = this.s
    s.log.info(`received view-change from replica ${vc.replicaId}, v:${vc.view}, h:${vc.h}, |C|:${vc.cset.length}, |P|:${vc.pset.length}, |Q|:${vc.qset.length}`)
    if (!this.verified(vc)) return
    if (vc.view < s.view || (vc.view === s.view && s.activeView)) this.steps.relayNewView(vc.replicaId, true)
    if (vc.view < s.view) {
      s.log.warn(`found view-change message for old view ${vc.view} from replica ${vc.replicaId}`)
      return
    }
    if (!this.correctViewChange(vc)) {
      s.log.warn(`found view-change message from replica ${vc.replicaId} incorrect`)
      return
    }
    if (!s.recordViewChange(vc)) {
      s.log.warn(`already has a view change message for view ${vc.view} from replica ${vc.replicaId}`)
      return
    }

    // Liveness (TOCS 4.5.1): f+1 replicas asking for views above ours means at least one correct
    // replica does; join the smallest such view without waiting for our own timer.
    const ahead = new Set<number>()
    let minView = 0
    for (const x of s.viewChangeStore.values()) {
      if (x.view <= s.view) continue
      ahead.add(x.replicaId)
      if (minView === 0 || x.view < minView) minView = x.view
    }
    if (ahead.size >= s.f + 1) {
      s.log.info(`received f+1 view-change messages, triggering view-change to view ${minView}`)
      return this.sendViewChange(minView)
    }

    let quorum = 0
    for (const x of s.viewChangeStore.values()) if (x.view === s.view) quorum++
    s.log.debug(`now has ${quorum} view change requests for view ${s.view}`)
    if (!s.activeView && vc.view === s.view && quorum >= s.allCorrectReplicasQuorum()) {
      s.timers.stopViewChangeResendTimer()
      s.timers.startTimer(s.timers.lastNewViewTimeout, 'new view change')
      s.timers.backOffNewViewTimeout()
      return { kind: 'viewChangeQuorum' }
    }
  }

  /** The new primary announces the view: the view-changes it used and the X set derived from them. */
  sendNewView (): CoreEvent | undefined {
    const s = this.s
    if (s.newViewStore.has(s.view)) {
      s.log.debug(`already has new view in store for view ${s.view}, skipping`)
      return
    }
    const vset = [...s.viewChangeStore.values()].filter(vc => vc.view === s.view)
    const cp = selectInitialCheckpoint(vset, this.params())
    if (cp === undefined) {
      s.log.info(`could not find consistent checkpoint among ${vset.length} view-changes for view ${s.view}`)
      return
    }
    const xset = assignSequenceNumbers(vset, cp.checkpoint.seqNo, this.params())
    if (xset === undefined) {
      s.log.info(`could not assign sequence numbers for new view ${s.view}`)
      return
    }
    const nv: NewView = { view: s.view, vset, xset, replicaId: s.id }
    s.log.info(`is new primary, sending new-view, v:${nv.view}, X:${[...xset].map(([n, d]) => `${n}=${d === '' ? 'null' : d.slice(0, 8)}`).join(' ')}`)
    this.steps.innerBroadcast({ type: 'newView', msg: nv })
    s.storeNewView(nv)
    return this.processNewView()
  }

  recvNewView (nv: NewView): CoreEvent | undefined {
    const s = this.s
    s.log.info(`received new-view ${nv.view} from replica ${nv.replicaId}`)
    if (!(nv.view > 0 && nv.view >= s.view && !s.newViewStore.has(nv.view) && this.validNewView(nv))) {
      s.log.info(`rejecting new-view from ${nv.replicaId}, v:${nv.view}`)
      return
    }
    s.storeNewView(nv)
    // A view formed without our view-change may have started before we could hear it (viewsync.ts).
    if (!nv.vset.some(vc => vc.replicaId === s.id)) s.joinedLate()
    return this.processNewView()
  }

  /**
   * From the view's primary, and (Weft) S a quorum of distinct, correctly signed, valid view-changes
   * for that very view: without that, the counts behind the X set prove nothing.
   */
  validNewView (nv: NewView): boolean {
    const s = this.s
    if (s.primary(nv.view) !== nv.replicaId) return false
    const senders = new Set(nv.vset.map(vc => vc.replicaId))
    if (senders.size !== nv.vset.length || nv.vset.length < s.allCorrectReplicasQuorum() ||
      nv.vset.some(vc => vc.view !== nv.view || vc.replicaId >= s.N || !this.correctViewChange(vc))) {
      s.log.warn(`new-view ${nv.view}: its view-change set is not ${s.allCorrectReplicasQuorum()} distinct valid view-changes for that view`)
      return false
    }
    return nv.vset.every(vc => this.verified(vc))
  }

  /** Checks the stored new-view for the current view and, once everything it needs is here, enters the view. */
  processNewView (): CoreEvent | undefined {
    const s = this.s
    const nv = s.newViewStore.get(s.view)
    if (nv === undefined) {
      s.log.debug(`ignoring processNewView as it could not find view ${s.view} in its newViewStore`)
      return
    }
    if (s.activeView) {
      s.log.debug(`ignoring new-view from ${nv.replicaId}, v:${nv.view}: we are active in view ${s.view}`)
      return
    }
    const cp = selectInitialCheckpoint(nv.vset, this.params())
    if (cp === undefined) {
      s.log.warn(`could not determine initial checkpoint of new-view ${nv.view}`)
      return this.sendViewChange()
    }
    const base = cp.checkpoint
    const speculativeLastExec = s.currentExec ?? s.lastExec
    // Executing up to the new view's checkpoint beats transferring state to it.
    if (speculativeLastExec < base.seqNo) {
      if (s.canExecuteTo(speculativeLastExec, base.seqNo)) {
        s.log.debug(`needs to process a new view, but can execute to the checkpoint seqNo ${base.seqNo}, delaying processing of new view`)
        return
      }
      s.log.info(`cannot execute to the view change checkpoint with seqNo ${base.seqNo}`)
    }
    const xset = assignSequenceNumbers(nv.vset, base.seqNo, this.params())
    if (xset === undefined) {
      s.log.warn(`could not assign sequence numbers for new-view ${nv.view}`)
      return this.sendViewChange()
    }
    if (!sameXset(xset, nv.xset)) {
      s.log.warn(`failed to verify new-view Xset: computed ${[...xset].join(' ')}, received ${[...nv.xset].join(' ')}`)
      return this.sendViewChange()
    }
    if (s.h < base.seqNo) this.steps.moveWatermarks(base.seqNo)
    if (speculativeLastExec < base.seqNo) {
      s.log.warn(`missing base checkpoint ${base.seqNo} (${base.id}), our most recent execution ${speculativeLastExec}`)
      let id: Uint8Array
      try {
        id = fromBase64(base.id)
      } catch {
        s.log.error(`received a view change whose checkpoint id could not be decoded (${base.id})`)
        return
      }
      const target = { seqNo: base.seqNo, id, replicas: cp.replicas }
      s.updateHighStateTarget(target)
      this.steps.stateTransfer(target)
    }
    let newlyMissing = false
    for (const [n, d] of nv.xset) {
      if (n <= s.h || d === '' || s.reqBatchStore.has(d)) continue
      s.log.warn(`missing assigned, non-checkpointed request batch ${d}`)
      if (s.markReqBatchMissing(d)) newlyMissing = true
    }
    if (s.missingReqBatches.size === 0) return this.enterNewView(nv)
    if (newlyMissing) this.fetchRequestBatches()
  }

  /** Installs the X set as this view's pre-prepares and prepares them (Fabric's processNewView2). */
  private enterNewView (nv: NewView): CoreEvent {
    const s = this.s
    s.log.info(`accepting new-view to view ${s.view}`)
    const assigned = s.enterView(nv)
    if (s.primary(s.view) !== s.id) {
      for (const [n, d] of assigned) {
        const prep: Prepare = { view: s.view, seqNo: n, digest: d, replicaId: s.id }
        s.markPrepareSent(s.view, n)
        this.steps.innerBroadcast({ type: 'prepare', msg: prep })
        const next = this.steps.recvPrepare(prep)
        if (next !== undefined) this.steps.post(next)
      }
    } else {
      s.log.debug('is now primary, attempting to resubmit requests')
      this.steps.resubmitRequestBatches()
    }
    s.startTimerIfOutstandingRequests()
    this.steps.releaseHeld()
    return { kind: 'viewChanged' }
  }

  /** Asks everyone for batches a new view assigned that this replica does not have. */
  private fetchRequestBatches (): void {
    for (const digest of this.s.missingReqBatches) {
      this.steps.innerBroadcast({ type: 'fetchRequestBatch', msg: { digest, replicaId: this.s.id } })
    }
  }

  recvFetchRequestBatch (fr: FetchRequestBatch): void {
    const batch = this.s.reqBatchStore.get(fr.digest)
    if (batch === undefined) return
    this.stack.unicast({ type: 'returnRequestBatch', batch }, fr.replicaId)
  }

  recvReturnRequestBatch (batch: RequestBatch): CoreEvent | undefined {
    const digest = batchDigest(batch)
    // Unasked for, or already got from someone else.
    if (!this.s.missingReqBatches.has(digest)) return
    this.s.storeMissingReqBatch(digest, batch)
    return this.processNewView()
  }
}
