import { toBase64 } from '../../crypto/bytes.ts'
import { computeCryptoHash } from '../../crypto/hash.ts'
import type { CoreEvent, ViewMessage } from './events.ts'
import type { InnerStack } from './inner-stack.ts'
import { batchDigest, encodePbftMessage, type Commit, type NewView, type PrePrepare, type Prepare } from './messages.ts'
import type { ReplicaState } from './state.ts'
import type { Steps } from './steps.ts'

/**
 * Weft: bringing a replica that missed a view change into the current view. In Fabric a replica
 * that restarts (or missed the new-view message) stays in its old view until the network's next
 * view change, catching up only at checkpoints. Here a replica that hears from a replica still in
 * an older view sends it the new-view message it accepted; the lagging replica adopts a new view
 * once f+1 replicas relayed the very same message, so at least one correct replica accepted it.
 */
export class ViewSync {
  constructor (
    private readonly s: ReplicaState,
    private readonly stack: Pick<InnerStack, 'unicast'>,
    private readonly steps: Pick<Steps, 'post' | 'validNewView' | 'processNewView' | 'sendViewChange' | 'executeOutstanding'>
  ) {}

  /** Sends our new-view to a replica that is still in an older view (once per view for ordinary messages). */
  relayNewView (to: number, always: boolean): void {
    const s = this.s
    if (!s.ext.viewSync || !s.activeView || to === s.id) return
    const nv = s.newViewStore.get(s.view)
    if (nv === undefined) return
    if (!s.relays.recordRelay(to, s.view) && !always) return
    s.log.debug(`relaying new-view ${s.view} to replica ${to}, which is still in an older view`)
    this.stack.unicast({ type: 'newView', msg: nv }, to)
  }

  recvNewViewRelay (nv: NewView, sender: number): CoreEvent | undefined {
    const s = this.s
    if (nv.view < s.view || (nv.view === s.view && s.activeView)) return
    if (!this.steps.validNewView(nv)) return
    const key = `${nv.view}:${toBase64(computeCryptoHash(encodePbftMessage({ type: 'newView', msg: nv })))}`
    const votes = s.relays.recordNewViewRelay(sender, key)
    if (votes < s.f + 1) return
    s.log.info(`adopting new-view ${nv.view} relayed by ${votes} replicas (was in view ${s.view}${s.activeView ? '' : ', changing'})`)
    s.relays.clearNewViewRelays()
    if (nv.view > s.view) {
      // The new view exists: we leave ours without a view-change message of our own.
      s.timers.stopTimer()
      s.timers.stopViewChangeResendTimer()
      s.startViewChange(nv.view)
    }
    s.storeNewView(nv)
    s.joinedLate()
    return this.steps.processNewView()
  }

  /**
   * Weft: a pre-prepare, prepare or commit for a view we are about to enter (its new-view has not
   * reached us, or overtook it on the way) is kept instead of dropped, and replayed once we are in
   * that view.
   */
  holdForView (msg: PrePrepare | Prepare | Commit, kind: ViewMessage['kind']): boolean {
    const s = this.s
    if (!s.ext.holdFutureViews || msg.view < s.view || (msg.view === s.view && s.activeView)) return false
    s.relays.holdForView({ kind, msg } as ViewMessage)
    s.log.debug(`holding ${kind} for view=${msg.view}/seqNo=${msg.seqNo} from replica ${msg.replicaId} until we are in that view`)
    this.followAhead()
    return true
  }

  /**
   * Weft: f+1 replicas ordering in a view above ours (a restarted replica comes back in the view it
   * persisted) include a correct one, so that view exists: ask for it with a view-change, as the
   * f+1 rule joins f+1 view-changes. The replicas in it answer with their new-view (relayNewView),
   * adopted on f+1 copies. Before, such a replica waited for its request timer, or for ever when
   * no request reached it.
   */
  private followAhead (): void {
    const s = this.s
    if (!s.ext.viewSync || !s.activeView) return
    const ahead = s.relays.heldAhead(s.view)
    if (ahead.replicas < s.f + 1) return
    s.log.info(`${ahead.replicas} replicas order in views above ${s.view}, asking for view ${ahead.minView}`)
    const next = this.steps.sendViewChange(ahead.minView)
    if (next !== undefined) this.steps.post(next)
  }

  /**
   * Weft: a replica whose view change nobody joined (the f+1 rule wants f+1 of them) stays out of
   * ordering until the network's next view change, catching up only by state transfer (Fabric
   * alike). It may not vote in the view it left (its view-change told the others what it prepared
   * there), but it can follow that view: the primary's pre-prepares and the others' prepares and
   * commits make certificates, and one with 2f+1 commits is committed, so it executes in order and
   * checkpoints with the others. True when the message was for the view we are following.
   */
  observe (m: PrePrepare | Prepare | Commit, kind: ViewMessage['kind']): boolean {
    const s = this.s
    if (!s.observes(m.view) || !s.inW(m.seqNo)) return false
    if (kind === 'prePrepare') {
      const pp = m as PrePrepare
      if (pp.replicaId !== s.primary(pp.view) || s.certAt(pp.view, pp.seqNo)?.prePrepare !== undefined) return true
      if (pp.digest !== '' && !s.reqBatchStore.has(pp.digest)) {
        if (pp.batch === undefined || batchDigest(pp.batch) !== pp.digest) return true
        s.storeMissingReqBatch(pp.digest, pp.batch)
      }
      s.recordPrePrepare(pp)
    } else if (kind === 'prepare') {
      if (m.replicaId === s.primary(m.view)) return true
      s.recordPrepare(m)
    } else {
      const cert = s.recordCommit(m)
      if (cert?.prePrepare !== undefined && s.committed(cert.digest, m.view, m.seqNo)) s.forgetOutstandingReqBatch(cert.digest)
    }
    this.steps.executeOutstanding()
    return true
  }

  /** Replays what was held for the view just entered. */
  releaseHeld (): void {
    for (const e of this.s.relays.takeHeldForView(this.s.view)) this.steps.post(e)
  }
}
