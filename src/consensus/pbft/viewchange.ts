import { fromBase64 } from '../../crypto/bytes.ts'
import { moveWatermarks, stateTransfer, updateHighStateTarget } from './checkpoint.ts'
import type { PbftCore } from './core.ts'
import type { CoreEvent } from './events.ts'
import { viewChangeSigningBytes, type NewView, type PrePrepare, type Prepare, type ViewChange } from './messages.ts'
import { assignSequenceNumbers, sameXset, selectInitialCheckpoint, type QuorumParams } from './newview.ts'
import { fetchRequestBatches, recvPrepare, resubmitRequestBatches } from './ordering.ts'
import { calcPSet, calcQSet, persistQSet } from './pqsets.ts'
import { relayNewView, releaseHeld } from './viewsync.ts'

/** View change and new view (Castro–Liskov TOCS 2002, 4.4 and 4.5). */

const vcKey = (v: number, replica: number): string => `${v}:${replica}`

function params (c: PbftCore): QuorumParams {
  return { f: c.f, quorum: c.intersectionQuorum(), L: c.L }
}

/** P and Q entries must be from earlier views and inside the sender's window; C entries inside it too. */
function correctViewChange (c: PbftCore, vc: ViewChange): boolean {
  for (const p of [...vc.pset, ...vc.qset]) {
    if (!(p.view < vc.view && p.seqNo > vc.h && p.seqNo <= vc.h + c.L)) {
      c.debug(`invalid p entry in view-change: vc(v:${vc.view} h:${vc.h}) p(v:${p.view} n:${p.seqNo})`)
      return false
    }
  }
  for (const x of vc.cset) {
    // The paper says c.n > vc.h; the checkpoint at h itself is listed too.
    if (!(x.seqNo >= vc.h && x.seqNo <= vc.h + c.L)) {
      c.debug(`invalid c entry in view-change: vc(v:${vc.view} h:${vc.h}) c(n:${x.seqNo})`)
      return false
    }
  }
  return true
}

function verified (c: PbftCore, vc: ViewChange): boolean {
  try {
    c.consumer.verify(vc.replicaId, vc.signature, viewChangeSigningBytes(vc))
    return true
  } catch (err) {
    c.warn(`found incorrect signature in view-change message from replica ${vc.replicaId}: ${(err as Error).message}`)
    return false
  }
}

/** Leaves the current view for the next one and tells everyone what we prepared. */
export function sendViewChange (c: PbftCore): CoreEvent | undefined {
  c.stopTimer()
  c.newViewStore.delete(c.view)
  c.view++
  c.activeView = false
  c.lateJoin = false
  c.pset = calcPSet(c)
  c.qset = calcQSet(c)
  for (const [key, cert] of c.certStore) if (cert.view < c.view) c.certStore.delete(key)
  for (const [key, vc] of c.viewChangeStore) if (vc.view < c.view) c.viewChangeStore.delete(key)

  const vc: ViewChange = {
    view: c.view,
    h: c.h,
    cset: [...c.chkpts].map(([seqNo, id]) => ({ seqNo, id })),
    pset: [...c.pset.values()],
    qset: [...c.qset.values()],
    replicaId: c.id,
    signature: new Uint8Array(0)
  }
  for (const p of [...vc.pset, ...vc.qset]) {
    if (p.seqNo < c.h) c.error(`BUG! should not have anything in our P/Q sets below h (${c.h}), found seqNo ${p.seqNo}`)
  }
  vc.signature = c.consumer.sign(viewChangeSigningBytes(vc))
  c.info(`sending view-change, v:${vc.view}, h:${vc.h}, |C|:${vc.cset.length}, |P|:${vc.pset.length}, |Q|:${vc.qset.length}`)
  c.innerBroadcast({ type: 'viewChange', msg: vc })
  c.vcResendTimer.reset(c.vcResendTimeout, { kind: 'viewChangeResendTimer' })
  return recvViewChange(c, vc)
}

export function recvViewChange (c: PbftCore, vc: ViewChange): CoreEvent | undefined {
  c.info(`received view-change from replica ${vc.replicaId}, v:${vc.view}, h:${vc.h}, |C|:${vc.cset.length}, |P|:${vc.pset.length}, |Q|:${vc.qset.length}`)
  if (!verified(c, vc)) return
  if (vc.view < c.view || (vc.view === c.view && c.activeView)) relayNewView(c, vc.replicaId, true)
  if (vc.view < c.view) {
    c.warn(`found view-change message for old view ${vc.view} from replica ${vc.replicaId}`)
    return
  }
  if (!correctViewChange(c, vc)) {
    c.warn(`found view-change message from replica ${vc.replicaId} incorrect`)
    return
  }
  const key = vcKey(vc.view, vc.replicaId)
  if (c.viewChangeStore.has(key)) {
    c.warn(`already has a view change message for view ${vc.view} from replica ${vc.replicaId}`)
    return
  }
  c.viewChangeStore.set(key, vc)

  // Liveness (TOCS 4.5.1): f+1 replicas asking for views above ours means at least one correct
  // replica does; join the smallest such view without waiting for our own timer.
  const ahead = new Set<number>()
  let minView = 0
  for (const x of c.viewChangeStore.values()) {
    if (x.view <= c.view) continue
    ahead.add(x.replicaId)
    if (minView === 0 || x.view < minView) minView = x.view
  }
  if (ahead.size >= c.f + 1) {
    c.info(`received f+1 view-change messages, triggering view-change to view ${minView}`)
    c.view = minView - 1 // sendViewChange moves it forward
    return sendViewChange(c)
  }

  let quorum = 0
  for (const x of c.viewChangeStore.values()) if (x.view === c.view) quorum++
  c.debug(`now has ${quorum} view change requests for view ${c.view}`)
  if (!c.activeView && vc.view === c.view && quorum >= c.allCorrectReplicasQuorum()) {
    c.vcResendTimer.stop()
    c.startTimer(c.lastNewViewTimeout, 'new view change')
    // Each view change that fails to complete gives the next one twice as long.
    c.lastNewViewTimeout = 2 * c.lastNewViewTimeout
    return { kind: 'viewChangeQuorum' }
  }
}

/** The new primary announces the view: the view-changes it used and the X set derived from them. */
export function sendNewView (c: PbftCore): CoreEvent | undefined {
  if (c.newViewStore.has(c.view)) {
    c.debug(`already has new view in store for view ${c.view}, skipping`)
    return
  }
  const vset = [...c.viewChangeStore.values()].filter(vc => vc.view === c.view)
  const cp = selectInitialCheckpoint(vset, params(c))
  if (cp === undefined) {
    c.info(`could not find consistent checkpoint among ${vset.length} view-changes for view ${c.view}`)
    return
  }
  const xset = assignSequenceNumbers(vset, cp.checkpoint.seqNo, params(c))
  if (xset === undefined) {
    c.info(`could not assign sequence numbers for new view ${c.view}`)
    return
  }
  const nv: NewView = { view: c.view, vset, xset, replicaId: c.id }
  c.info(`is new primary, sending new-view, v:${nv.view}, X:${[...xset].map(([n, d]) => `${n}=${d === '' ? 'null' : d.slice(0, 8)}`).join(' ')}`)
  c.innerBroadcast({ type: 'newView', msg: nv })
  c.newViewStore.set(c.view, nv)
  return processNewView(c)
}

export function recvNewView (c: PbftCore, nv: NewView): CoreEvent | undefined {
  c.info(`received new-view ${nv.view} from replica ${nv.replicaId}`)
  if (!(nv.view > 0 && nv.view >= c.view && !c.newViewStore.has(nv.view) && validNewView(c, nv))) {
    c.info(`rejecting new-view from ${nv.replicaId}, v:${nv.view}`)
    return
  }
  c.newViewStore.set(nv.view, nv)
  // A view formed without our view-change may have started before we could hear it (viewsync.ts).
  if (!nv.vset.some(vc => vc.replicaId === c.id)) c.lateJoin = true
  return processNewView(c)
}

/**
 * From the view's primary, and (Weft) S a quorum of distinct, correctly signed, valid view-changes
 * for that very view: without that, the counts behind the X set prove nothing.
 */
export function validNewView (c: PbftCore, nv: NewView): boolean {
  if (c.primary(nv.view) !== nv.replicaId) return false
  const senders = new Set(nv.vset.map(vc => vc.replicaId))
  if (senders.size !== nv.vset.length || nv.vset.length < c.allCorrectReplicasQuorum() ||
    nv.vset.some(vc => vc.view !== nv.view || vc.replicaId >= c.N || !correctViewChange(c, vc))) {
    c.warn(`new-view ${nv.view}: its view-change set is not ${c.allCorrectReplicasQuorum()} distinct valid view-changes for that view`)
    return false
  }
  return nv.vset.every(vc => verified(c, vc))
}

/** Checks the stored new-view for the current view and, once everything it needs is here, enters the view. */
export function processNewView (c: PbftCore): CoreEvent | undefined {
  const nv = c.newViewStore.get(c.view)
  if (nv === undefined) {
    c.debug(`ignoring processNewView as it could not find view ${c.view} in its newViewStore`)
    return
  }
  if (c.activeView) {
    c.debug(`ignoring new-view from ${nv.replicaId}, v:${nv.view}: we are active in view ${c.view}`)
    return
  }
  const cp = selectInitialCheckpoint(nv.vset, params(c))
  if (cp === undefined) {
    c.warn(`could not determine initial checkpoint of new-view ${nv.view}`)
    return sendViewChange(c)
  }
  const base = cp.checkpoint
  const speculativeLastExec = c.currentExec ?? c.lastExec
  // Executing up to the new view's checkpoint beats transferring state to it.
  if (speculativeLastExec < base.seqNo) {
    if (c.canExecuteTo(speculativeLastExec, base.seqNo)) {
      c.debug(`needs to process a new view, but can execute to the checkpoint seqNo ${base.seqNo}, delaying processing of new view`)
      return
    }
    c.info(`cannot execute to the view change checkpoint with seqNo ${base.seqNo}`)
  }
  const xset = assignSequenceNumbers(nv.vset, base.seqNo, params(c))
  if (xset === undefined) {
    c.warn(`could not assign sequence numbers for new-view ${nv.view}`)
    return sendViewChange(c)
  }
  if (!sameXset(xset, nv.xset)) {
    c.warn(`failed to verify new-view Xset: computed ${[...xset].join(' ')}, received ${[...nv.xset].join(' ')}`)
    return sendViewChange(c)
  }
  if (c.h < base.seqNo) moveWatermarks(c, base.seqNo)
  if (speculativeLastExec < base.seqNo) {
    c.warn(`missing base checkpoint ${base.seqNo} (${base.id}), our most recent execution ${speculativeLastExec}`)
    let id: Uint8Array
    try {
      id = fromBase64(base.id)
    } catch {
      c.error(`received a view change whose checkpoint id could not be decoded (${base.id})`)
      return
    }
    const target = { seqNo: base.seqNo, id, replicas: cp.replicas }
    updateHighStateTarget(c, target)
    stateTransfer(c, target)
  }
  let newlyMissing = false
  for (const [n, d] of nv.xset) {
    if (n <= c.h || d === '' || c.reqBatchStore.has(d)) continue
    c.warn(`missing assigned, non-checkpointed request batch ${d}`)
    if (!c.missingReqBatches.has(d)) {
      c.missingReqBatches.add(d)
      newlyMissing = true
    }
  }
  if (c.missingReqBatches.size === 0) return enterNewView(c, nv)
  if (newlyMissing) fetchRequestBatches(c)
}

/** Installs the X set as this view's pre-prepares and prepares them (Fabric's processNewView2). */
function enterNewView (c: PbftCore, nv: NewView): CoreEvent {
  c.info(`accepting new-view to view ${c.view}`)
  c.stopTimer()
  c.nullRequestTimer.stop()
  c.activeView = true
  c.newViewStore.delete(c.view - 1)
  c.relayedTo.clear()

  const assigned = [...nv.xset].filter(([n]) => n > c.h).sort((a, b) => a[0] - b[0])
  c.seqNo = c.h
  for (const [n, d] of assigned) {
    const batch = c.reqBatchStore.get(d)
    if (batch === undefined && d !== '') c.error(`is missing request batch for seqNo=${n} with digest '${d}' for assigned prepare after fetching, this indicates a serious bug`)
    const pp: PrePrepare = { view: c.view, seqNo: n, digest: d, batch, replicaId: c.id }
    const cert = c.getCert(c.view, n)
    cert.prePrepare = pp
    cert.digest = d
    c.seqNo = Math.max(c.seqNo, n)
  }
  persistQSet(c)
  c.updateViewChangeSeqNo()

  if (c.primary(c.view) !== c.id) {
    for (const [n, d] of assigned) {
      const prep: Prepare = { view: c.view, seqNo: n, digest: d, replicaId: c.id }
      c.getCert(c.view, n).sentPrepare = true
      c.innerBroadcast({ type: 'prepare', msg: prep })
      const next = recvPrepare(c, prep)
      if (next !== undefined) c.post(next)
    }
  } else {
    c.debug('is now primary, attempting to resubmit requests')
    resubmitRequestBatches(c)
  }
  c.startTimerIfOutstandingRequests()
  releaseHeld(c)
  return { kind: 'viewChanged' }
}
