import type { Random } from '../../util/scheduler.ts'
import { Checkpoints } from './checkpoint.ts'
import type { CoreEvent, CoreTimer, StateTarget } from './events.ts'
import type { InnerStack } from './inner-stack.ts'
import type { PbftMessage } from './messages.ts'
import { Ordering } from './ordering.ts'
import type { PbftStore } from './persist.ts'
import { ReplicaState, type ReplicaInit } from './state.ts'
import type { Steps } from './steps.ts'
import { ViewChanges } from './viewchange.ts'
import { ViewSync } from './viewsync.ts'

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

/**
 * The PBFT state machine of one replica (Castro–Liskov, as Fabric 0.6.1's pbft-core). It is
 * driven by events, one at a time, and never blocks: execution, state transfer and sending go
 * through the InnerStack and come back as events. This file wires the parts and routes events:
 * the state lives in state.ts, the rules in ordering.ts (pre-prepare, prepare, commit,
 * execution), checkpoint.ts (checkpoints, watermarks, state transfer), viewchange.ts (view
 * change, new view) and viewsync.ts (Weft's relayed new-views and held messages).
 */
export class PbftCore {
  readonly state: ReplicaState
  private readonly ordering: Ordering
  private readonly checkpoints: Checkpoints
  private readonly viewChanges: ViewChanges
  private readonly viewSync: ViewSync

  constructor (init: ReplicaInit, components: CoreComponents) {
    const s = this.state = new ReplicaState(init, components)
    const steps: Steps = {
      post: components.post,
      fatal: components.onFatal,
      innerBroadcast: msg => this.innerBroadcast(msg, components),
      recvPrepare: prep => this.ordering.recvPrepare(prep),
      executeOutstanding: () => this.ordering.executeOutstanding(),
      resubmitRequestBatches: () => this.ordering.resubmitRequestBatches(),
      checkpoint: (seqNo, id) => this.checkpoints.checkpoint(seqNo, id),
      moveWatermarks: n => this.checkpoints.moveWatermarks(n),
      stateTransfer: target => this.checkpoints.stateTransfer(target),
      sendViewChange: view => this.viewChanges.sendViewChange(view),
      processNewView: () => this.viewChanges.processNewView(),
      validNewView: nv => this.viewChanges.validNewView(nv),
      relayNewView: (to, always) => this.viewSync.relayNewView(to, always),
      holdForView: (msg, kind) => this.viewSync.holdForView(msg, kind),
      observe: (msg, kind) => this.viewSync.observe(msg, kind),
      releaseHeld: () => this.viewSync.releaseHeld()
    }
    const stack = components.consumer
    this.ordering = new Ordering(s, stack, steps)
    this.checkpoints = new Checkpoints(s, stack, steps)
    this.viewChanges = new ViewChanges(s, stack, steps)
    this.viewSync = new ViewSync(s, stack, steps)
  }

  /** Handles one event; returns the next event to handle before anything else, if any. */
  processEvent (e: CoreEvent): CoreEvent | undefined {
    const s = this.state
    switch (e.kind) {
      case 'viewChangeTimer':
        // Only the request timer of an active view: during a view change this timer is what moves on to the next view.
        if (s.ext.lateJoin && s.lateJoin && s.activeView) {
          // The gap is ours, not the primary's fault: the next checkpoint's state transfer fills it.
          s.log.info(`view change timer expired (${s.timers.newViewTimerReason}), but we joined view ${s.view} late: waiting to catch up instead`)
          s.timers.softStartTimer(s.requestTimeout, 'catching up after joining the view late')
          return
        }
        if (s.ext.timerGrace && s.activeView && e.graced !== true) {
          // A busy replica runs its due timers before it reads its input: the pre-prepare or commit
          // it waited for may be here already, and a view change it starts alone leaves it out.
          const grace = Math.max(1, Math.floor(s.requestTimeout / 4))
          s.log.info(`view change timer expired (${s.timers.newViewTimerReason}), leaving the view in ${grace} ms unless a batch commits`)
          s.timers.startGraceTimer(grace)
          return
        }
        s.log.info(`view change timer expired, sending view change: ${s.timers.newViewTimerReason}`)
        return this.viewChanges.sendViewChange()
      case 'message': return this.recvMsg(e.msg, e.sender)
      case 'requestBatch': this.ordering.recvRequestBatch(e.batch); return
      case 'prePrepare': return this.ordering.recvPrePrepare(e.msg)
      case 'prepare': return this.ordering.recvPrepare(e.msg)
      case 'commit': return this.ordering.recvCommit(e.msg)
      case 'checkpoint': return this.checkpoints.recvCheckpoint(e.msg)
      case 'viewChange': return this.viewChanges.recvViewChange(e.msg)
      case 'newView': return this.viewChanges.recvNewView(e.msg)
      case 'newViewRelay': return this.viewSync.recvNewViewRelay(e.msg, e.sender)
      case 'fetchRequestBatch': this.viewChanges.recvFetchRequestBatch(e.msg); return
      case 'returnRequestBatch': return this.viewChanges.recvReturnRequestBatch(e.batch)
      case 'stateUpdated': return this.checkpoints.stateUpdated(e.target, e.info)
      case 'execDone':
        this.ordering.execDoneSync()
        if (s.skipInProgress) this.checkpoints.retryStateTransfer()
        // A new view may have been waiting for this execution.
        return this.viewChanges.processNewView()
      case 'executionFailed': this.checkpoints.executionFailed(e.error); return
      case 'nullRequestTimer': return this.ordering.nullRequestHandler()
      case 'work': e.fn(); return
      case 'viewChangeQuorum':
        s.log.debug('received view change quorum, processing new view')
        return s.primary(s.view) === s.id ? this.viewChanges.sendNewView() : this.viewChanges.processNewView()
      case 'viewChanged': return
      case 'viewChangeResendTimer':
        if (s.activeView) {
          s.log.warn('had its view change resend timer expire but it is in an active view, ignoring')
          return
        }
        s.log.debug('view change resend timer expired before view change quorum was reached, resending')
        return this.viewChanges.sendViewChange(s.view)
    }
  }

  /** Starts state transfer, to `target` if given (batch.ts starts by transferring to its own state). */
  stateTransfer (target?: StateTarget): void { this.checkpoints.stateTransfer(target) }

  /** Leaves the current view now, as if the request timer had expired. */
  sendViewChange (): CoreEvent | undefined { return this.viewChanges.sendViewChange() }

  /** Checks that a message claims the replica whose connection it came on (Fabric's recvMsg). */
  private recvMsg (m: PbftMessage, sender: number): CoreEvent | undefined {
    if (m.type === 'requestBatch') return { kind: 'requestBatch', batch: m.batch }
    // A returned batch is the original, whoever forwards it: its digest is what gets checked.
    if (m.type === 'returnRequestBatch') return { kind: 'returnRequestBatch', batch: m.batch }
    // A new-view forwarded by a replica other than its primary: view sync (viewsync.ts).
    if (m.type === 'newView' && m.msg.replicaId !== sender && this.state.ext.viewSync) return { kind: 'newViewRelay', msg: m.msg, sender }
    if (m.msg.replicaId !== sender) {
      this.state.log.warn(`Sender ID included in ${m.type} message (${m.msg.replicaId}) doesn't match ID corresponding to the receiving stream (${sender})`)
      return
    }
    return { kind: m.type, msg: m.msg } as CoreEvent
  }

  /** Broadcasts to the other replicas; a byzantine replica leaves one random replica out a third of the time. */
  private innerBroadcast (msg: PbftMessage, { consumer, random }: CoreComponents): void {
    const s = this.state
    if (s.byzantine && Math.floor(random() * 3) === 1) {
      const skip = Math.floor(random() * s.N)
      s.log.debug(`byzantine: not broadcasting ${msg.type} to replica ${skip}`)
      for (let i = 0; i < s.N; i++) if (i !== skip && i !== s.id) consumer.unicast(msg, i)
      return
    }
    consumer.broadcast(msg)
  }
}
